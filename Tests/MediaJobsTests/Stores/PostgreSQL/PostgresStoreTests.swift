import Foundation
import PostgresNIO
import Testing

@testable import MediaJobs

/// What only the PostgreSQL store has: its migrations. Runs when `MEDIAJOBS_TEST_DATABASE_URL`
/// names a database (always under scripts/test).
@Suite(.enabled(if: StoreFactory.testDatabaseURL != nil)) struct PostgresStoreTests {
    /// A fresh schema, and a pool that works in it.
    private func freshSchema() async throws -> PostgresRun {
        let url = try #require(StoreFactory.testDatabaseURL)
        let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let run = try PostgresRun(url: url, schema: schema)
        try await run.client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
        return run
    }

    @Test func instancesStartingTogetherMigrateOnceAndAllComeUp() async throws {
        let run = try await freshSchema()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask { _ = try await PostgresStore(client: run.client, outbox: .testing) }
            }
            try await group.waitForAll()
        }
        let versions = try await run.client.query("SELECT version FROM mediajobs_schema ORDER BY version").collect()
            .map { try $0.decode(Int.self) }
        #expect(versions == Array(1...PostgresStore.migrations.count))
    }

    @Test func aSchemaNewerThanTheBinaryIsRefused() async throws {
        let run = try await freshSchema()
        _ = try await PostgresStore(client: run.client, outbox: .testing)
        let newer = PostgresStore.migrations.count + 1
        try await run.client.query("INSERT INTO mediajobs_schema (version) VALUES (\(newer))")
        await #expect(throws: PostgresSchemaError.self) { _ = try await PostgresStore(client: run.client, outbox: .testing) }
    }
}
