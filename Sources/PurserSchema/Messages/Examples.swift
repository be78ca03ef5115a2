/// Values shared by the message types' examples, so the examples describe one coherent story.
enum Examples {
    static let customerId = "3f1c7d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f"
    static let purseId = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    static let address = "0x52908400098527886e0f7030069857d2e4169ee7"
    static let transactionId = "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    static let transactionHash = "0x8e3b6d1f0a2c4e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b"
    static let addressFrom = "0x1f9840a85d5af5bf1d1762f925bdaddc4201f984"
    static let currency = "USDT_BSC"
    static let amount = try! DecimalAmount("1000000000.000000000000000001")
    static let account = "0x8ba1f109551bd432803012645ac136ddd64dba72"
    static let confirmedAt = Timestamp(millisecondsSince1970: 1_764_064_800_123)
    static let decidedAt = Timestamp(millisecondsSince1970: 1_764_064_800_456)
}
