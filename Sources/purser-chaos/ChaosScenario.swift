import CalypsoSandbox
import Foundation

/// A scripted fault, applied to a running cluster while deposits flow.
enum ChaosScenario: String, CaseIterable, Codable {
    /// SIGKILL of a random worker replica every few seconds, each restarted at once.
    case killReplicas = "kill-replicas"
    /// The broker refuses every connection for a while during steady traffic.
    case brokerDown = "broker-down"
    /// Calypso's API fails 20 % of calls and answers the rest after 2 s.
    case calypsoFaults = "calypso-faults"
    /// 30 % of webhooks delivered twice and 30 % out of order.
    case deliveryFaults = "delivery-faults"
    /// Every worker stopped, every group rewound to the earliest record of its inputs, workers restarted.
    case replay
    /// Every process, ingest included, stopped with SIGTERM and restarted, one after the other.
    case rollingRestart = "rolling-restart"
}

struct ChaosOptions: Sendable {
    var depositsPerSecond: Double
    var traffic: Duration
    var brokerDown: Duration
    var settleTimeout: Duration
}

struct ChaosError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension ChaosScenario {
    /// Sends deposits and applies the fault; returns when the fault ended (traffic may have gone on).
    func drive(
        _ cluster: ChaosCluster,
        customers: [String],
        options: ChaosOptions,
        notes: inout [String],
        problems: inout [String]
    ) async throws
        -> ContinuousClock.Instant
    {
        let rate = options.depositsPerSecond
        switch self {
        case .killReplicas:
            async let traffic = cluster.sendDeposits(perSecond: rate, for: options.traffic, customers: customers)
            let end = ContinuousClock.now + options.traffic
            var kills = 0
            while ContinuousClock.now + .seconds(3) < end {
                try await Task.sleep(for: .seconds(Double.random(in: 2...4)))
                let victim = ChaosCluster.workerProcessNames.randomElement()!
                // A replica that is not running (it died on its own) is not a kill; the audit's lag and
                // recovery would show what that cost, and the note says so.
                guard let process = cluster.process(victim), process.isRunning else {
                    problems.append("\(victim) was not running when it was to be killed")
                    try cluster.start(victim)
                    continue
                }
                process.signal(SIGKILL)
                _ = await process.waitForExit(timeout: .seconds(10))
                try cluster.start(victim)
                kills += 1
            }
            _ = try await traffic
            notes.append("\(kills) replicas SIGKILLed and restarted")
            if kills == 0 { problems.append("no replica was killed") }
            return .now

        case .brokerDown:
            let total = max(options.traffic, options.brokerDown + .seconds(20))
            async let traffic = cluster.sendDeposits(perSecond: rate, for: total, customers: customers)
            try await Task.sleep(for: .seconds(10))
            try cluster.kafka.setBrokerDown()
            try await Task.sleep(for: options.brokerDown)
            try cluster.kafka.setBrokerUp()
            let ended = ContinuousClock.now
            _ = try await traffic
            notes.append("broker down \(Int(options.brokerDown.seconds)) s")
            return ended

        case .calypsoFaults:
            var faults = SandboxFaults()
            faults.apiErrorRate = 0.2
            faults.apiLatency = .seconds(2)
            try cluster.sandbox.setFaults(faults)
            try await cluster.sendDeposits(perSecond: rate, for: options.traffic, customers: customers)
            try cluster.sandbox.setFaults(SandboxFaults())
            return .now

        case .deliveryFaults:
            var faults = SandboxFaults()
            faults.duplicateDeliveryRate = 0.3
            faults.outOfOrderDeliveryRate = 0.3
            try cluster.sandbox.setFaults(faults)
            try await cluster.sendDeposits(perSecond: rate, for: options.traffic, customers: customers)
            return .now

        case .replay:
            try await cluster.sendDeposits(perSecond: rate, for: options.traffic, customers: customers)
            guard await cluster.waitUntilSettled(timeout: options.settleTimeout) != nil else {
                throw ChaosError("the pipeline did not settle before the replay")
            }
            await cluster.stop(ChaosCluster.workerProcessNames)
            var replayed = 0
            for worker in ChaosCluster.workers {
                let inputs = worker.inputs(cluster.topics)
                try await cluster.published.rewind(group: worker.executable, topics: inputs)
                replayed += try await cluster.published.lag(group: worker.executable, topics: inputs)
            }
            for name in ChaosCluster.workerProcessNames { try cluster.start(name) }
            notes.append("\(replayed) records replayed")
            if replayed == 0 { problems.append("the rewind replayed nothing") }
            return .now

        case .rollingRestart:
            async let traffic = cluster.sendDeposits(perSecond: rate, for: options.traffic, customers: customers)
            // Restarts begin once credits flow: a process signalled while it starts up has no handler yet.
            let deadline = ContinuousClock.now + .seconds(60)
            while try await cluster.published.count(cluster.topics.depositsCredited) == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            var unclean: [String] = []
            for name in ChaosCluster.processNames {
                let status = await cluster.stop([name])[name] ?? nil
                if status != 0 { unclean.append("\(name) (\(status.map { "exit \($0)" } ?? "still running after 30 s"))") }
                try cluster.start(name)
                try await Task.sleep(for: .seconds(3))
            }
            let ended = ContinuousClock.now
            _ = try await traffic
            notes.append("\(ChaosCluster.processNames.count) processes restarted one by one")
            if !unclean.isEmpty { problems.append("did not exit 0 on SIGTERM: \(unclean.joined(separator: ", "))") }
            return ended
        }
    }
}
