/// How webhooks are sent.
public struct WebhookSettings: Sendable {
    /// Endpoints that receive every task's events (besides each task's own `callback_url`).
    public var endpoints: [WebhookEndpoint] = []
    /// Waits before attempt 1, 2, …; its length is the number of attempts before dead-lettering.
    public var retrySchedule: [Duration] = WebhookSettings.defaultSchedule
    /// Deadline of one delivery attempt.
    public var timeout: Duration = .seconds(15)
    /// Deliveries in flight at once.
    public var concurrency: Int = 16
    /// How long a claimed delivery stays reserved for this process.
    public var lease: Duration = .seconds(60)
    /// How long attempts in flight may finish after a shutdown request.
    public var shutdownGrace: Duration = .seconds(5)

    /// Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (about three days in all).
    public static let defaultSchedule: [Duration] = [
        .zero, .seconds(5), .seconds(300), .seconds(1_800), .seconds(7_200), .seconds(18_000),
        .seconds(36_000), .seconds(50_400), .seconds(72_000), .seconds(86_400),
    ]

    public init() {}
}
