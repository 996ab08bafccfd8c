import Foundation
import Synchronization

/// Slows down guessing of the admin key: after a few wrong keys from one client address, that
/// address must wait before its next try, twice as long after each further wrong key.
///
/// An address has at most one sign-in in flight: ``begin(_:now:)`` checks the wait and reserves
/// the attempt under one lock, so guesses sent in parallel cannot all pass the check before the
/// first of them is counted.
final class LoginThrottle: Sendable {
    /// Wrong keys an address may send before it has to wait.
    let freeAttempts: Int
    /// The wait after the first wrong key beyond the free ones; it doubles up to ``maximumWait``.
    let firstWait: Duration
    let maximumWait: Duration
    /// Addresses remembered at most; beyond it the longest quiet half is forgotten (see ``State/sweep(now:maximumWait:limit:)``).
    let maximumRecords: Int

    private struct Record {
        var failures: Int
        var lastFailure: Date
    }

    private struct State {
        var records: [String: Record] = [:]
        /// Addresses whose key is being checked now.
        var inFlight: Set<String> = []
        /// The table size at which the next failure sweeps it: twice what the last sweep kept, so
        /// sweeping costs O(1) per failure over time however many addresses fail.
        var sweepAbove = State.smallestSweep

        static let smallestSweep = 64

        /// Forgets addresses whose last wrong key is more than `maximumWait` ago (their wait is
        /// over whatever their count); if more than `limit` remain (many addresses failing at
        /// once), keeps only the most recent `limit / 2`.
        mutating func sweep(now: Date, maximumWait: Duration, limit: Int) {
            records = records.filter { now.timeIntervalSince($0.value.lastFailure) <= maximumWait.timeInterval }
            if records.count > limit {
                let newest = records.sorted { $0.value.lastFailure > $1.value.lastFailure }.prefix(max(limit / 2, 1))
                records = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
            }
            sweepAbove = min(max(Self.smallestSweep, 2 * records.count), limit)
        }
    }

    private let state = Mutex(State())

    init(freeAttempts: Int = 5, firstWait: Duration = .seconds(1), maximumWait: Duration = .seconds(300), maximumRecords: Int = 10_000) {
        self.freeAttempts = freeAttempts
        self.firstWait = firstWait
        self.maximumWait = maximumWait
        self.maximumRecords = maximumRecords
    }

    /// Starts a sign-in attempt from `address`: nil when it may check a key now (and must then call
    /// ``failed(_:now:)``, ``succeeded(_:)`` or ``abandoned(_:)``), otherwise how long it must wait,
    /// at least a second while another attempt from the address is being checked.
    func begin(_ address: String, now: Date = Date()) -> Duration? {
        state.withLock { state in
            if let record = state.records[address] {
                let remaining = wait(afterFailures: record.failures).timeInterval - now.timeIntervalSince(record.lastFailure)
                if remaining > 0 { return .milliseconds(Int64((remaining * 1000).rounded(.up))) }
            }
            guard state.inFlight.insert(address).inserted else { return .seconds(1) }
            return nil
        }
    }

    /// Records a wrong key from `address` and ends its attempt.
    func failed(_ address: String, now: Date = Date()) {
        state.withLock { state in
            state.inFlight.remove(address)
            var record = state.records[address] ?? Record(failures: 0, lastFailure: now)
            record.failures += 1
            record.lastFailure = now
            state.records[address] = record
            if state.records.count > state.sweepAbove { state.sweep(now: now, maximumWait: maximumWait, limit: maximumRecords) }
        }
    }

    /// A correct key: the address starts afresh.
    func succeeded(_ address: String) {
        state.withLock { state in
            state.inFlight.remove(address)
            state.records[address] = nil
        }
    }

    /// Ends an attempt that checked no key (its form could not be read).
    func abandoned(_ address: String) {
        _ = state.withLock { $0.inFlight.remove(address) }
    }

    /// Addresses remembered now (for tests of the sweep).
    var recordCount: Int {
        state.withLock { $0.records.count }
    }

    /// The wait after `failures` wrong keys: none for the free ones, then 1 s, 2 s, 4 s … up to the maximum.
    func wait(afterFailures failures: Int) -> Duration {
        guard failures >= freeAttempts else { return .zero }
        let doublings = min(failures - freeAttempts, 20)
        return min(firstWait * (1 << doublings), maximumWait)
    }
}
