import Testing

@testable import MediaJobs

/// `--database-url` parsing: what is accepted, what is refused, and that the password never shows.
@Suite struct PostgresDatabaseURLTests {
    @Test func parsesEveryPartAndHidesThePassword() throws {
        let url = try PostgresDatabaseURL("postgres://jobs:s%40cret@db.internal:6543/media")
        #expect(url.host == "db.internal" && url.port == 6543 && url.username == "jobs" && url.database == "media")
        #expect(url.password == "s@cret")
        #expect(url.description == "postgres://jobs@db.internal:6543/media")
        #expect(!"\(url)".contains("cret"))
    }

    @Test func defaultsThePortAndAcceptsPostgresqlAndIPv6() throws {
        let url = try PostgresDatabaseURL("postgresql://jobs@[::1]/media")
        #expect(url.host == "::1" && url.port == 5432 && url.password == nil)
    }

    @Test(arguments: [
        "not a url", "mysql://u:p@h/db", "postgres://u:hunter2@h", "postgres://u:hunter2@h/", "postgres://:hunter2@h/db",
        "postgres://u:hunter2@h/db?sslmode=require",
    ])
    func refusesWhatItCannotUseWithoutRepeatingThePassword(_ string: String) {
        #expect {
            try PostgresDatabaseURL(string)
        } throws: { error in
            let message = "\(error)"
            return error is PostgresDatabaseURL.Invalid && !message.contains("hunter2") && !message.isEmpty
        }
    }
}
