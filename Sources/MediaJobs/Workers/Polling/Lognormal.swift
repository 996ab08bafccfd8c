import Foundation

/// A lognormal distribution of durations in seconds: `ln D` is normal with mean `mu` and standard
/// deviation `sigma`. Provider durations are skewed to the right (most tasks near a typical time,
/// a few much slower), which this shape follows; everything here is in closed form.
public struct Lognormal: Sendable, Equatable {
    public var mu: Double
    public var sigma: Double

    public init(median: Double, sigma: Double) {
        self.mu = log(max(median, 0.001))
        self.sigma = max(sigma, 0.001)
    }

    public var median: Double { exp(mu) }

    /// P(D ≤ t).
    public func cdf(_ t: Double) -> Double {
        guard t > 0 else { return 0 }
        return Self.normalCDF((log(t) - mu) / sigma)
    }

    /// E[D · 1{D ≤ t}]: what the durations that end by `t` add up to, per task.
    public func partialExpectation(_ t: Double) -> Double {
        guard t > 0 else { return 0 }
        return exp(mu + sigma * sigma / 2) * Self.normalCDF((log(t) - mu - sigma * sigma) / sigma)
    }

    /// The duration below which a fraction `p` of tasks end.
    public func quantile(_ p: Double) -> Double {
        exp(mu + sigma * Self.normalQuantile(min(max(p, 1e-9), 1 - 1e-9)))
    }

    /// The duration at fraction `u` (0…1) of this distribution's mass between `low` and `high`:
    /// `u` evenly spread over tasks gives durations distributed as this distribution is within
    /// the interval. When the interval holds next to no mass, its middle.
    public func quantile(_ u: Double, between low: Double, and high: Double) -> Double {
        let lowMass = cdf(low), highMass = cdf(high)
        guard high > low else { return high }
        guard highMass - lowMass > 1e-9 else { return (low + high) / 2 }
        return min(max(quantile(lowMass + min(max(u, 0), 1) * (highMass - lowMass)), low), high)
    }

    static func normalCDF(_ z: Double) -> Double {
        0.5 * erfc(-z / 2.0.squareRoot())
    }

    /// Inverse of ``normalCDF(_:)`` (Acklam's rational approximation, relative error below 1.2e-9).
    static func normalQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low {
            let q = (-2 * log(1 - p)).squareRoot()
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
