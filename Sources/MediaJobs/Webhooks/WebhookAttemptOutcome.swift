import Foundation

/// What one delivery attempt led to, as ``WebhookDeliveryStore/record(_:deliveryID:owner:now:)`` stores it.
public enum WebhookAttemptOutcome: Sendable, Equatable {
    /// The endpoint answered 2xx.
    case delivered(status: Int)
    /// The attempt failed; the next one is due at `next`.
    case retry(status: Int?, error: String, next: Date)
    /// The last attempt of the schedule failed (or the target can never be reached): dead-lettered.
    case dead(status: Int?, error: String)
    /// The endpoint answered 410 Gone: switch it off.
    case endpointGone(url: String)
}
