import PostgresNIO

extension PostgresStore: SharedSettingStore {
    public func sharedSetting(_ name: String, proposing proposed: String) async throws -> (value: String, created: Bool) {
        // ON CONFLICT DO NOTHING: the first instance's value wins, the others read it back.
        let inserted = try await rows("INSERT INTO service_settings (name, value) VALUES (\(name), \(proposed)) ON CONFLICT (name) DO NOTHING RETURNING value")
        if let row = inserted.first { return (try row.value("value", as: String.self), true) }
        guard let value = try await scalar("SELECT value FROM service_settings WHERE name = \(name)", as: String.self) else {
            // Removed between the two statements (by hand): propose again.
            return try await sharedSetting(name, proposing: proposed)
        }
        return (value, false)
    }
}
