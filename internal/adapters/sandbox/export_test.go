package sandbox

// Shard exposes the worker an intent's events go to, so that tests can pick intents on different
// workers.
var Shard = shard
