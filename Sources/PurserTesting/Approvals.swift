import PurserKafka
import PurserSchema

/// `purser.deposit.approved` records made up for the crediter's tests and benchmark.
public enum Approvals {
    /// The approval of transaction `tx-<index>`, of one of `customers` customers (the record key).
    public static func record(index: Int, customers: Int, topic: String) throws -> ProducerRecord {
        let customer = "customer-\(index % customers)"
        let deposit = DepositDetails(
            transactionId: "tx-\(index)",
            customerId: customer,
            purseId: "purse-\(index % customers)",
            address: "0xaddress\(index % customers)",
            currency: "ETH",
            amount: try DecimalAmount("\(index).000000000000000001"),
            transactionHash: "0xhash\(index)",
            addressFrom: nil
        )
        let approval = DepositApproved(deposit: deposit, confirmedAt: .now, approvedAt: .now)
        let event = CloudEvent(data: approval, source: "purser-customer-policy", traceparent: .random())
        return ProducerRecord(topic: topic, key: Array(customer.utf8), value: event.recordValue())
    }
}
