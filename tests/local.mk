# integration suites (real Kafka + MongoDB-wire server)
