import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Accepts TCP connections on a fixed loopback port and relays each one to `target`.
///
/// The embedded broker listens on ports the system picks; this gives it a well-known bootstrap
/// port (`purser broker --port`). Kafka clients only bootstrap through it: the metadata they get
/// back names the brokers' own addresses.
public final class TCPForwarder: Service, Sendable {
    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
    }

    private let listener: Int32
    private let logger: Logger

    /// Binds 127.0.0.1:`port` and starts accepting; `target` is `host:port` (IPv4 loopback).
    public init(port: Int, target: String, logger: Logger) throws {
        let parts = target.split(separator: ":")
        guard parts.count == 2, let targetPort = UInt16(parts[1]) else {
            throw SetupError(description: "target \(target) is not host:port")
        }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: UInt16(port))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw SetupError(description: "cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        self.listener = listener
        self.logger = logger
        Thread { [logger] in
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }  // the listener was closed
                let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var targetAddress = Self.loopback(port: targetPort)
                let connected = withUnsafePointer(to: &targetAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                guard connected == 0 else {
                    logger.warning("cannot reach \(target) for a forwarded connection")
                    close(client)
                    close(upstream)
                    continue
                }
                Self.pump(from: client, to: upstream)
                Self.pump(from: upstream, to: client)
            }
        }.start()
    }

    /// Runs until graceful shutdown, then stops accepting.
    public func run() async throws {
        try? await gracefulShutdown()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// Copies bytes one way until either side closes, then closes both directions.
    private static func pump(from source: Int32, to destination: Int32) {
        Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(source, &buffer, buffer.count)
                if count <= 0 { break }
                var written = 0
                while written < count {
                    let result = buffer[written..<count].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
                    if result <= 0 { break }
                    written += result
                }
                if written < count { break }
            }
            shutdown(source, Int32(SHUT_RDWR))
            shutdown(destination, Int32(SHUT_RDWR))
        }.start()
    }
}
