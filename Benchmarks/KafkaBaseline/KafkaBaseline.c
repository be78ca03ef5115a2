#include "KafkaBaseline.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_seconds(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

static int set(rd_kafka_conf_t *conf, const char *key, const char *value) {
        char error[512];
        if (rd_kafka_conf_set(conf, key, value, error, sizeof(error)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "baseline: %s: %s\n", key, error);
                return -1;
        }
        return 0;
}

/// A configuration holding `properties`, or NULL (after printing which one failed).
static rd_kafka_conf_t *make_conf(const char *const *properties, int property_count) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        for (int i = 0; i < property_count; i++) {
                if (set(conf, properties[2 * i], properties[2 * i + 1])) {
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        }
        return conf;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
        (void)rk;
        if (message->err) (*(long *)opaque)++;
}

double kafka_baseline_produce(const char *const *properties, int property_count, const char *topic, int count,
                              int size, long *failures) {
        char error[512];
        *failures = 0;
        rd_kafka_conf_t *conf = make_conf(properties, property_count);
        if (!conf) return -1;
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, failures);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        char *payload = malloc((size_t)size);
        memset(payload, 'x', (size_t)size);
        char key[32];
        // Warm-up, as on the Swift side: one acknowledged record, so the clock measures throughput, not
        // connection set-up and topic metadata.
        if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, (size_t)size),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ||
            rd_kafka_flush(rk, 30000) || *failures) {
                free(payload);
                rd_kafka_destroy(rk);
                return -1;
        }
        double start = now_seconds();
        for (int i = 0; i < count; i++) {
                int key_length = snprintf(key, sizeof(key), "key-%d", i % 100);
                rd_kafka_resp_err_t err;
                while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, (size_t)key_length),
                                                RD_KAFKA_V_VALUE(payload, (size_t)size),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
                       RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 1);
                if (err) {
                        (*failures)++;
                        continue;
                }
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 120000);
        double elapsed = now_seconds() - start;
        free(payload);
        rd_kafka_destroy(rk);
        return elapsed;
}

double kafka_baseline_consume(const char *const *properties, int property_count, const char *topic, int partitions,
                              int count, double *cpu_seconds) {
        char error[512];
        rd_kafka_conf_t *conf = make_conf(properties, property_count);
        if (!conf) return -1;
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; p++)
                rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        double start = now_seconds();  // bounds the wait
        rd_kafka_assign(rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        int received = 0;
        size_t bytes = 0;
        // The clock starts at the first record, as on the Swift side: throughput, not fetch set-up.
        double first = 0, first_cpu = 0;
        while (received < count && now_seconds() - start < 120) {
                rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 100);
                if (!message) continue;
                if (!message->err) {
                        if (received++ == 0) {
                                first = now_seconds();
                                first_cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
                        }
                        bytes += message->len;
                }
                rd_kafka_message_destroy(message);
        }
        double elapsed = now_seconds() - first;
        *cpu_seconds = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - first_cpu;
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return received == count && bytes > 0 ? elapsed : -1;
}
