#ifndef PURSER_KAFKA_BASELINE_H
#define PURSER_KAFKA_BASELINE_H

/// The benchmark's baseline: the same workloads written directly against librdkafka.
///
/// `properties` holds `count` key/value pairs (`properties[2*i]` = key, `properties[2*i+1]` = value),
/// applied to the client's configuration in order: the benchmark passes the same list to both sides.

/// Produces `count` records of `size` bytes (keys `key-<i % 100>`), enqueuing all of them at once,
/// waits for every delivery report, and returns the elapsed seconds (or -1 on error).
/// `failures` receives the number of failed delivery reports.
double kafka_baseline_produce(const char *const *properties, int property_count, const char *topic, int count,
                              int size, long *failures);

/// Reads `count` records from every partition (`partitions` of them) of `topic` from the
/// beginning, without a group, and returns the elapsed seconds (or -1 on error or timeout) from the first record
/// to the last. `cpu_seconds` receives the CPU time the whole process used over the same span.
double kafka_baseline_consume(const char *const *properties, int property_count, const char *topic, int partitions,
                              int count, double *cpu_seconds);

#endif
