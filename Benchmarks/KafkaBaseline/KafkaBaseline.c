#include "KafkaBaseline.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *value) {
        char error[512];
        if (rd_kafka_conf_set(conf, key, value, error, sizeof(error)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "baseline: %s: %s\n", key, error);
                return -1;
        }
        return 0;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
        (void)rk;
        if (message->err) (*(long *)opaque)++;
}

double kafka_baseline_produce(const char *bootstrap, const char *topic, int count, int size, long *failures) {
        char error[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        *failures = 0;
        if (set(conf, "bootstrap.servers", bootstrap) || set(conf, "enable.idempotence", "true") ||
            set(conf, "acks", "all") || set(conf, "linger.ms", "5")) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
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

double kafka_baseline_consume(const char *bootstrap, const char *topic, int partitions, int count) {
        char error[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (set(conf, "bootstrap.servers", bootstrap) || set(conf, "group.id", "baseline-assign-only") ||
            set(conf, "enable.auto.commit", "false")) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; p++)
                rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        double start = now_seconds();
        rd_kafka_assign(rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        int received = 0;
        size_t bytes = 0;
        while (received < count && now_seconds() - start < 120) {
                rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 100);
                if (!message) continue;
                if (!message->err) {
                        received++;
                        bytes += message->len;
                }
                rd_kafka_message_destroy(message);
        }
        double elapsed = now_seconds() - start;
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return received == count && bytes > 0 ? elapsed : -1;
}
