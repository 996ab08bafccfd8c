import Foundation
import Logging
import PostgresNIO

/// One `LISTEN` connection per instance: turns other instances' `NOTIFY`s into wake-ups of this
/// instance's workers.
///
/// Notifications are a shortcut, never the only way work is found: the workers still look at the
/// database every idle tick, so a notification lost while this connection was down delays work by
/// at most that tick. After every (re)connect it wakes every worker once, to re-check what may
/// have been missed meanwhile.
struct PostgresWakeUpListener: Sendable {
    let url: PostgresDatabaseURL
    /// The schema the store works in, when not `public` (tests).
    var searchPath: String?
    let wake: @Sendable (StoreWakeUp) -> Void
    let logger: Logger
    /// Waits between reconnect attempts: doubles from the first to the last.
    var reconnectDelays: (first: Duration, last: Duration) = (.milliseconds(250), .seconds(5))

    /// Listens until cancelled, reconnecting whenever the connection is lost.
    func run() async {
        var delay = reconnectDelays.first
        var connectionID = 1_000
        while !Task.isCancelled {
            do {
                connectionID += 1
                let connection = try await PostgresConnection.connect(
                    configuration: url.probeConfiguration(searchPath: searchPath), id: connectionID, logger: logger)
                do {
                    let schema = try await connection.query("SELECT current_schema()", logger: logger).collect().first?.decode(String.self) ?? "public"
                    try await connection.listen(on: PostgresStore.wakeUpChannel) { notifications in
                        delay = reconnectDelays.first
                        logger.debug("listening for other instances' work")
                        for wakeUp in StoreWakeUp.allCases { wake(wakeUp) }
                        for try await notification in notifications {
                            // `<schema>:<wake-up>`: other schemas' deployments are not ours to wake.
                            let (from, kind) = notification.payload.splitOnce(":")
                            if from == schema, let wakeUp = StoreWakeUp(rawValue: kind) { wake(wakeUp) }
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
                if Task.isCancelled { return }
                logger.notice("the database closed the LISTEN connection; reconnecting")
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "LISTEN connection to the database lost; workers fall back to polling until it is back",
                    metadata: ["error": "\(PostgresStoreService.describe(error))", "retry.in": "\(delay)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, reconnectDelays.last)
        }
    }
}

extension String {
    /// The parts before and after the first `separator` (all and "" when there is none).
    fileprivate func splitOnce(_ separator: Character) -> (String, String) {
        guard let index = firstIndex(of: separator) else { return (self, "") }
        return (String(self[..<index]), String(self[self.index(after: index)...]))
    }
}
