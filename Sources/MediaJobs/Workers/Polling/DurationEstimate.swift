import Foundation

/// The distribution of a key's provider durations, estimated from its recent observations and a
/// prior.
///
/// Robust by construction: the centre is the median of the log-durations and the spread their
/// median absolute deviation, so a few stuck or instant tasks move neither. Only the most recent
/// observations count (``window``), so when the provider slows down the estimate follows within
/// half a window of completions. The prior counts as a few observations: it decides the first
/// tasks' schedule and fades as real durations arrive.
public enum DurationEstimate {
    /// Observations per key that count: the newest.
    public static let window = 100
    /// How many observations the prior is worth.
    static let priorWeight = 2.0
    /// No estimate is narrower than this (durations are never perfectly regular, and polls must
    /// still find a task that is a little late).
    static let minimumSigma = 0.05

    /// Before anything is known about a key: what the provider's documentation says of its
    /// timing, widened so that a provider faster or slower than documented is not badly served
    /// while the first durations come in. Music "typically takes 30–120 seconds": a median of a
    /// minute, σ = 0.7 (a tenth under 25 s, a tenth over 2.5 minutes). Video "takes 30–60
    /// seconds": 45 s, σ = 0.6. Anything else: half a minute, σ = 1.
    public static func prior(for key: DurationKey) -> Lognormal {
        if key.value.hasPrefix("music/") { return Lognormal(median: 60, sigma: 0.7) }
        if key.value.hasPrefix("video/") { return Lognormal(median: 45, sigma: 0.6) }
        return Lognormal(median: 30, sigma: 1.0)
    }

    /// The estimate from `observations` (seconds, any order) and `prior`.
    public static func estimate(_ observations: [Double], prior: Lognormal) -> Lognormal {
        let logs = recentLogs(observations)
        guard !logs.isEmpty else { return prior }
        let centre = median(logs)
        let spread = 1.4826 * median(logs.map { abs($0 - centre) })
        let n = Double(logs.count)
        let mu = (priorWeight * prior.mu + n * centre) / (priorWeight + n)
        // The spread of what is observed, widened by how far the centre may still be off (few
        // observations) and by the prior while it still weighs.
        let variance = (priorWeight * prior.sigma * prior.sigma + n * spread * spread) / (priorWeight + n)
        let sigma = (variance * (1 + 1 / (n + priorWeight))).squareRoot()
        var estimate = Lognormal(median: 1, sigma: max(sigma, minimumSigma))
        estimate.mu = mu
        return estimate
    }

    /// Running tasks counted at most (evenly picked from the sorted set): enough to place the
    /// centre, few enough that an estimate stays within milliseconds per key.
    static let runningSample = 256

    /// The estimate from `observations` and `prior`, corrected by tasks still running.
    ///
    /// While tasks are running, the ones observed are the quickest of the tasks started so far
    /// (the slow ones are still running): their median is biased short and their spread narrow,
    /// and a fresh installation would poll early and often. Each task still running after `c`
    /// seconds says its duration is over `c`; centre and spread are the pair that best explains the
    /// observed durations, the prior's two observations and those lower bounds (the censored
    /// lognormal likelihood, maximised one coordinate at a time by golden-section search). An
    /// observation more than three spreads from the observed median counts only as a bound
    /// (beyond that point), so a few stuck or instant tasks still move neither. The centre is never
    /// earlier than the observations' own. With a full window (a steady state) the observations
    /// alone count.
    public static func estimate(_ observations: [Double], running: [Double], prior: Lognormal) -> Lognormal {
        let robust = estimate(observations, prior: prior)
        let logsEnded = recentLogs(observations)
        let bounds = running.filter { $0 > 0 && $0.isFinite }.sorted()
        guard logsEnded.count < window, !bounds.isEmpty else { return robust }
        let picked = bounds.count <= runningSample ? bounds : (0..<runningSample).map { bounds[$0 * bounds.count / runningSample] }
        let runningWeight = Double(bounds.count) / Double(picked.count)
        let logsRunning = picked.map { log($0) }

        var exact = [prior.mu - prior.sigma, prior.mu + prior.sigma], exactWeight = [priorWeight / 2, priorWeight / 2]
        var above: [Double] = [], below: [Double] = []
        if !logsEnded.isEmpty {
            let centre = median(logsEnded)
            let spread = max(1.4826 * median(logsEnded.map { abs($0 - centre) }), 0.1)
            let low = centre - 3 * spread, high = centre + 3 * spread
            for x in logsEnded {
                if x > high {
                    above.append(high)
                } else if x < low {
                    below.append(low)
                } else {
                    exact.append(x)
                    exactWeight.append(1)
                }
            }
        }
        func logLikelihood(_ mu: Double, _ sigma: Double) -> Double {
            var total = 0.0
            let logSigma = log(sigma)
            for (x, weight) in zip(exact, exactWeight) {
                let z = (x - mu) / sigma
                total -= weight * (z * z / 2 + logSigma)
            }
            for x in above { total += log(max(upperTail((x - mu) / sigma), 1e-300)) }
            for x in below { total += log(max(upperTail((mu - x) / sigma), 1e-300)) }
            for x in logsRunning { total += runningWeight * log(max(upperTail((x - mu) / sigma), 1e-300)) }
            return total
        }
        // Centre and spread are correlated when most tasks are censored, so one pass of each does not
        // settle them; after eight, forty more move the centre by well under a percent.
        var mu = robust.mu, sigma = robust.sigma
        for _ in 0..<8 {
            mu = maximise(in: log(0.5)...log(86_400.0)) { logLikelihood($0, sigma) }
            sigma = exp(maximise(in: log(minimumSigma)...log(3.0)) { logLikelihood(mu, exp($0)) })
        }
        var estimate = Lognormal(median: 1, sigma: max(sigma * (1 + 1 / (Double(logsEnded.count) + priorWeight)).squareRoot(), minimumSigma))
        estimate.mu = max(robust.mu, mu)
        return estimate
    }

    /// P(Z > z) for a standard normal Z, accurate far into the tail.
    static func upperTail(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }

    /// Where the concave `function` is largest in `range` (golden-section search).
    static func maximise(in range: ClosedRange<Double>, tolerance: Double = 0.002, _ function: (Double) -> Double) -> Double {
        var low = range.lowerBound, high = range.upperBound
        let ratio = (5.0.squareRoot() - 1) / 2
        var a = high - ratio * (high - low), b = low + ratio * (high - low)
        var fa = function(a), fb = function(b)
        while high - low > tolerance {
            if fa < fb {
                low = a
                a = b
                fa = fb
                b = low + ratio * (high - low)
                fb = function(b)
            } else {
                high = b
                b = a
                fb = fa
                a = high - ratio * (high - low)
                fa = function(a)
            }
        }
        return (low + high) / 2
    }

    /// The logarithms of the newest ``window`` usable observations.
    static func recentLogs(_ observations: [Double]) -> [Double] {
        observations.filter { $0 > 0 && $0.isFinite }.suffix(window).map { log($0) }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
