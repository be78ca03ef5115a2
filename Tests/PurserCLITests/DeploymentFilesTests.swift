import ArgumentParser
import Foundation
import PurserSchema
import Testing
import Yams

@testable import PurserCLI

private let repository = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func text(_ path: String) throws -> String {
    try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
}

/// The services of docker-compose.yml, with YAML anchors and merge keys resolved.
private func composeServices() throws -> [String: [String: Any]] {
    let compose = try #require(try Yams.load(yaml: text("docker-compose.yml")) as? [String: Any])
    let services = try #require(compose["services"] as? [String: Any])
    return try services.mapValues { try #require($0 as? [String: Any]) }
}

/// A service built from this repository (the others are third-party images: Kafka, Prometheus).
private func isPurserImage(_ service: [String: Any]) -> Bool {
    service["build"] != nil
}

/// The service's command as a list of arguments.
private func command(of service: [String: Any]) throws -> [String] {
    try #require(service["command"] as? [String], "command must be a list of arguments")
}

/// The product names of `.executable(name: "…")` in Package.swift.
private func packageExecutables() throws -> Set<String> {
    let manifest = try text("Package.swift")
    let pattern = try NSRegularExpression(pattern: #"\.executable\(name: "([^"]+)""#)
    let range = NSRange(manifest.startIndex..., in: manifest)
    return Set(
        pattern.matches(in: manifest, range: range).compactMap { match in
            Range(match.range(at: 1), in: manifest).map { String(manifest[$0]) }
        }
    )
}

/// Every string scalar anywhere in a parsed YAML document.
private func strings(in node: Any) -> [String] {
    switch node {
    case let text as String: [text]
    case let list as [Any]: list.flatMap(strings(in:))
    case let map as [String: Any]: map.keys.map { $0 } + map.values.flatMap(strings(in:))
    default: []
    }
}

@Suite struct DeploymentFilesTests {
    @Test func everyComposeServiceRunsAnExecutableThePackageBuilds() throws {
        let executables = try packageExecutables()
        let contract: Set = [
            "purser", "purser-ingest", "purser-transaction-fetcher", "purser-customer-policy", "purser-purse-renewer",
            "purser-deposit-crediter", "calypso-sandbox",
        ]
        #expect(executables.isSuperset(of: contract))
        let purserServices = try composeServices().filter { isPurserImage($0.value) }
        #expect(!purserServices.isEmpty)
        for (name, service) in purserServices {
            let arguments = try command(of: service)
            #expect(
                executables.contains(arguments[0]),
                "\(name) runs \(arguments[0]), which Package.swift does not define"
            )
        }
    }

    @Test func everyComposeCommandLineParses() throws {
        for (name, service) in try composeServices() where isPurserImage(service) {
            let arguments = try command(of: service)
            let options = Array(arguments.dropFirst())
            switch arguments[0] {
            case "purser": #expect(throws: Never.self, "\(name)") { _ = try PurserCommand.parseAsRoot(options) }
            case "purser-ingest": #expect(throws: Never.self, "\(name)") { _ = try IngestCommand.parseAsRoot(options) }
            case "calypso-sandbox":
                #expect(throws: Never.self, "\(name)") { _ = try SandboxCommand.parseAsRoot(options) }
            default: #expect(options.isEmpty, "\(name): workers are configured through the environment only")
            }
        }
    }

    @Test func everyComposeVariableIsOneTheExecutableReads() throws {
        for (name, service) in try composeServices() where isPurserImage(service) {
            let executable = try command(of: service)[0]
            let known = try #require(EnvironmentVariables.read(by: executable), "\(name) runs \(executable)")
            let environment = try #require(service["environment"] as? [String: Any], "\(name) has no environment map")
            for variable in environment.keys {
                #expect(known.contains(variable), "\(name) sets \(variable), which \(executable) does not read")
            }
        }
    }

    @Test func theShapeIsAProductionOne() throws {
        let services = try composeServices()
        let kafka = services.filter { ($0.value["image"] as? String)?.hasPrefix("apache/kafka") == true }
        #expect(kafka.count == 3, "three brokers, so replication factor 3 and min.insync.replicas 2 hold")
        for (name, broker) in kafka {
            let environment = try #require(broker["environment"] as? [String: Any])
            #expect(environment["KAFKA_PROCESS_ROLES"] as? String == "broker,controller", "\(name) runs KRaft")
            #expect(broker["healthcheck"] != nil, "\(name) has a healthcheck")
        }
        let topics = try #require(services["topics"])
        #expect(try command(of: topics) == ["purser", "topics", "apply"])
        #expect(topics["restart"] as? String == "no")

        let workers = services.filter { TopicNames.Worker.all.map { "purser-\($0)" }.contains($0.key) }
        #expect(workers.count == 4)
        for (name, worker) in workers {
            let deploy = try #require(worker["deploy"] as? [String: Any], "\(name) has deploy settings")
            #expect(deploy["replicas"] as? Int == 2, "\(name) runs two replicas")
            #expect(try command(of: worker) == [name])
            let dependencies = try #require(worker["depends_on"] as? [String: Any])
            let onTopics = try #require(dependencies["topics"] as? [String: Any], "\(name) waits for the topics")
            #expect(onTopics["condition"] as? String == "service_completed_successfully")
        }
        #expect(try services["purser-ingest"].map(command(of:)) == ["purser-ingest"])
        #expect(services["calypso-sandbox"]?["profiles"] as? [String] == ["sandbox"])
        #expect(services["prometheus"]?["profiles"] as? [String] == ["metrics"])
    }

    @Test func everyTopicTheComposeFileNamesIsDeclared() throws {
        let compose = try #require(try Yams.load(yaml: text("docker-compose.yml")))
        let declared = Set(try TopicCatalog.load(from: repository.appendingPathComponent("topics")).topics.map(\.name))
        let topicLike = try NSRegularExpression(pattern: #"^[a-z]+(\.[a-z-]+)+\.v[0-9]+$"#)
        for value in strings(in: compose) {
            let words = value.split(whereSeparator: { " ,\"".contains($0) }).map(String.init)
            for word in words where topicLike.firstMatch(in: word, range: NSRange(word.startIndex..., in: word)) != nil
            {
                #expect(declared.contains(word), "\(word) is not declared in topics/")
            }
        }
    }

    @Test func theDockerfileBuildsEveryExecutableTheComposeFileRuns() throws {
        let dockerfile = try text("Dockerfile")
        let productsLine = try #require(
            dockerfile.split(separator: "\n").first { $0.hasPrefix("ARG PRODUCTS=") },
            "the Dockerfile lists its products in ARG PRODUCTS"
        )
        let built = Set(
            productsLine.dropFirst("ARG PRODUCTS=".count).trimmingCharacters(in: ["\""]).split(separator: " ").map(
                String.init
            )
        )
        #expect(built.isSubset(of: try packageExecutables()))
        for (name, service) in try composeServices() where isPurserImage(service) {
            let executable = try command(of: service)[0]
            #expect(built.contains(executable), "\(name) runs \(executable), which the Dockerfile does not build")
        }
        // The runtime stage installs what was built and the topic declarations `topics apply` reads.
        #expect(dockerfile.contains("COPY --from=build /out/ /usr/local/bin/"))
        #expect(dockerfile.contains("COPY topics /app/topics"))
        #expect(dockerfile.contains("librdkafka1"))
    }

    @Test func prometheusScrapesTheWorkersTheComposeFileRuns() throws {
        let services = try composeServices()
        let prometheus = try #require(try Yams.load(yaml: text("deploy/prometheus.yml")) as? [String: Any])
        let jobs = try #require(prometheus["scrape_configs"] as? [[String: Any]])
        let discovered = jobs.flatMap {
            ($0["dns_sd_configs"] as? [[String: Any]] ?? []).flatMap { $0["names"] as? [String] ?? [] }
        }
        let workers = services.keys.filter { services[$0]?["deploy"] != nil }
        #expect(Set(discovered) == Set(workers))
    }

    @Test func theSandboxEnvFileSetsOnlyWhatTheComposeFileUses() throws {
        let compose = try text("docker-compose.yml")
        let assignments = try text("deploy/sandbox.env").split(separator: "\n")
            .filter { !$0.hasPrefix("#") && $0.contains("=") }
        #expect(assignments.count == 6)
        for assignment in assignments {
            let name = assignment.prefix { $0 != "=" }
            #expect(
                compose.contains("${\(name)"),
                "deploy/sandbox.env sets \(name), which docker-compose.yml never reads"
            )
        }
    }

    @Test func theReadmeConfigurationTableListsEveryVariableTheCodeReads() throws {
        let readme = try text("README.md")
        let section =
            try #require(readme.components(separatedBy: "\n## Configuration\n").dropFirst().first)
            .components(separatedBy: "\n## ").first ?? ""
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| `") }
        let listed = Set(
            rows.flatMap { row in
                // The first cell names the variables, each in backticks.
                row.split(separator: "|").first.map { cell in
                    cell.split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
                } ?? []
            }
        )
        let executables = try packageExecutables()
        let read = executables.reduce(into: Set<String>()) { $0.formUnion(EnvironmentVariables.read(by: $1) ?? []) }
        #expect(read.count > 20)
        #expect(read.subtracting(listed).isEmpty, "read but not in the README: \(read.subtracting(listed).sorted())")
        #expect(
            listed.subtracting(read).isEmpty,
            "in the README but read by nothing: \(listed.subtracting(read).sorted())"
        )
    }
}
