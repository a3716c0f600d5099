#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few libm functions the models need, in one place so that the C library import stays here.
enum Math {
    @inline(__always) static func log(_ x: Double) -> Double { libmLog(x) }
    @inline(__always) static func log1p(_ x: Double) -> Double { libmLog1p(x) }
    @inline(__always) static func exp(_ x: Double) -> Double { libmExp(x) }

    /// 1 / (1 + e^(−m)), computed without overflow for any finite m.
    @inline(__always)
    static func sigmoid(_ m: Double) -> Double {
        if m >= 0 { return 1 / (1 + exp(-m)) }
        let e = exp(m)
        return e / (1 + e)
    }
}

@inline(__always) private func libmLog(_ x: Double) -> Double { log(x) }
@inline(__always) private func libmLog1p(_ x: Double) -> Double { log1p(x) }
@inline(__always) private func libmExp(_ x: Double) -> Double { exp(x) }
