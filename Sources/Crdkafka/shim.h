#ifndef PURSER_CRDKAFKA_SHIM_H
#define PURSER_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
// The mock cluster is Purser's embedded broker (`purser broker`, `purser run`, tests).
#include <librdkafka/rdkafka_mock.h>
#endif
