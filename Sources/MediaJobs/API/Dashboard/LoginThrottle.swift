import Foundation
import Synchronization

/// Slows down guessing of the admin key: after a few wrong keys from one client address, that
/// address must wait before its next try, twice as long after each further wrong key.
final class LoginThrottle: Sendable {
    /// Wrong keys an address may send before it has to wait.
    let freeAttempts: Int
    /// The wait after the first wrong key beyond the free ones; it doubles up to ``maximumWait``.
    let firstWait: Duration
    let maximumWait: Duration

    private struct Record {
        var failures: Int
        var lastFailure: Date
    }

    private let records = Mutex<[String: Record]>([:])

    init(freeAttempts: Int = 5, firstWait: Duration = .seconds(1), maximumWait: Duration = .seconds(300)) {
        self.freeAttempts = freeAttempts
        self.firstWait = firstWait
        self.maximumWait = maximumWait
    }

    /// How long `address` must still wait before it may try a key; nil when it may try now.
    func waitRemaining(for address: String, now: Date = Date()) -> Duration? {
        records.withLock { records in
            guard let record = records[address] else { return nil }
            let wait = self.wait(afterFailures: record.failures)
            let remaining = wait.timeInterval - now.timeIntervalSince(record.lastFailure)
            if remaining <= 0 {
                // Forgotten once a whole maximum wait has passed, so the table stays small.
                if now.timeIntervalSince(record.lastFailure) > maximumWait.timeInterval { records[address] = nil }
                return nil
            }
            return .milliseconds(Int64((remaining * 1000).rounded(.up)))
        }
    }

    /// Records a wrong key from `address`.
    func failed(_ address: String, now: Date = Date()) {
        records.withLock { records in
            var record = records[address] ?? Record(failures: 0, lastFailure: now)
            record.failures += 1
            record.lastFailure = now
            records[address] = record
        }
    }

    /// A correct key: the address starts afresh.
    func succeeded(_ address: String) {
        _ = records.withLock { $0.removeValue(forKey: address) }
    }

    /// The wait after `failures` wrong keys: none for the free ones, then 1 s, 2 s, 4 s … up to the maximum.
    func wait(afterFailures failures: Int) -> Duration {
        guard failures >= freeAttempts else { return .zero }
        let doublings = min(failures - freeAttempts, 20)
        return min(firstWait * (1 << doublings), maximumWait)
    }
}
