import Logging
import PurserRuntime
import PurserSchema

/// Whether each customer is blocked, as the latest `purser.customer.changed` on the compacted
/// `purser.customers.v1` says; a customer without an entry has no value.
public typealias CustomerTable = GlobalTable<Bool>

extension GlobalTable where Value == Bool {
    /// The customer table of `configuration`'s deployment. A record that is not a `purser.customer.changed`
    /// is logged and skipped by the table; a tombstone removes the customer.
    public static func customers(configuration: PurserConfiguration, logger: Logger) -> CustomerTable {
        CustomerTable(topic: configuration.topics.customers, configuration: configuration, logger: logger) { record in
            guard let key = record.keyString else { return nil }
            guard let value = record.value else { return (key, nil) }
            let change = try CloudEvent<CustomerChanged>(recordValue: value).data
            return (change.customerId, change.blocked)
        }
    }
}
