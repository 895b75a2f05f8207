DROP TABLE sandbox_intents;
