#ifndef PURSER_KAFKA_BASELINE_H
#define PURSER_KAFKA_BASELINE_H

/// The benchmark's baseline: the same workloads written directly against librdkafka.

/// Produces `count` records of `size` bytes (keys `key-<i % 100>`) with an idempotent, acks=all
/// producer, waits for every delivery report, and returns the elapsed seconds (or -1 on error).
/// `failures` receives the number of failed delivery reports.
double kafka_baseline_produce(const char *bootstrap, const char *topic, int count, int size, long *failures);

/// Reads `count` records from every partition (`partitions` of them) of `topic` from the
/// beginning, without a group, and returns the elapsed seconds (or -1 on error or timeout).
double kafka_baseline_consume(const char *bootstrap, const char *topic, int partitions, int count);

#endif
