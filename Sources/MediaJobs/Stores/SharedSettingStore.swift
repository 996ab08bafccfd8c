/// Values every instance sharing a store must agree on, kept in the store (e.g. the webhook
/// signing secret, which a single node keeps in its data directory instead).
public protocol SharedSettingStore: Sendable {
    /// The value of `name`, storing `proposed` first when there is none; of concurrent first
    /// callers exactly one stores its proposal and all get that value (`created` tells which).
    func sharedSetting(_ name: String, proposing proposed: String) async throws -> (value: String, created: Bool)
}
