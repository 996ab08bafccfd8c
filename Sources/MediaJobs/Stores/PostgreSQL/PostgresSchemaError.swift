/// The database was migrated by a newer binary: this one does not know its schema.
public struct PostgresSchemaError: Error, CustomStringConvertible {
    public var databaseVersion: Int
    public var knownVersion: Int
    public var description: String {
        "the database schema is at version \(databaseVersion), newer than this binary knows (\(knownVersion)): upgrade mediajobs"
    }
}
