// Swift API over librdkafka; see the README's "Kafka" section.
