import Calypso

/// How a ``CalypsoSandbox`` listens, whom it accepts and how it delivers webhooks.
public struct SandboxConfiguration: Sendable {
    /// Interface to bind. Default: `127.0.0.1`.
    public var host = "127.0.0.1"
    /// Port to bind; `0` picks a free one (see ``CalypsoSandbox/port()``). Default: `8081`.
    public var port = 8081
    /// The merchant account id calls must carry (`CALYPSO_ACCOUNT_ID`).
    public var account: String
    /// The merchant API pair calls must be signed with (`CALYPSO_API_KEY`, `CALYPSO_API_SECRET`).
    public var apiCredentials: CalypsoKeyPair
    /// A subscription created at start for every customer-purse event (`--webhook-url`),
    /// signed with ``webhookKeyPair``. Default: none.
    public var webhookURL: String?
    /// The key pair of the ``webhookURL`` subscription (`CALYPSO_WEBHOOK_KEY`, `CALYPSO_WEBHOOK_SECRET`);
    /// the sandbox makes one up when `nil`.
    public var webhookKeyPair: CalypsoKeyPair?
    /// Seed of every id, address and fault decision; `nil` draws one at random. Default: `nil`.
    public var seed: UInt64?
    /// Multiplies Calypso's delivery clock: retry gaps and the blocking window. `0.001` turns the
    /// first 30 s retry gap into 30 ms. Default: `1`.
    public var timeScale = 1.0
    /// Fault knobs in force at start. Default: none.
    public var faults = SandboxFaults()
    /// Time a webhook receiver has to answer one delivery. Default: 10 s.
    public var deliveryTimeout: Duration = .seconds(10)
    /// How long an out-of-order webhook waits for a later one to overtake it. Default: 1 s.
    public var reorderHold: Duration = .seconds(1)
    /// Accepted distance between a call's `timestamp` and the sandbox's clock. Default: 3 minutes.
    public var timestampTolerance: Duration = .seconds(180)

    public init(account: String, apiCredentials: CalypsoKeyPair) {
        self.account = account
        self.apiCredentials = apiCredentials
    }
}
