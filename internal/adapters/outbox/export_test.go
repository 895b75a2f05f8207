package outbox

// BacklogQuery is the statement Relay.Backlog runs on dialect, for tests that look at how the
// database executes it.
func BacklogQuery(dialect string) string {
	d, err := dialectFor(dialect, defaultBatchSize)
	if err != nil {
		panic(err)
	}
	return d.backlogQuery
}

// RelayGroup is the consumer group every relay acks as.
const RelayGroup = relayGroup
