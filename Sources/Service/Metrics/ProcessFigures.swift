import FoundationEssentials
import Glibc

/// Process figures for `/metrics`, read from `/proc` at scrape time (Linux). Each is nil when
/// its file cannot be read or parsed, and is then left out of the page.
struct ProcessFigures {
    var residentBytes: Int?
    var openDescriptors: Int?
    var maxDescriptors: Int?
    var cpuSeconds: Double?

    static func read() -> ProcessFigures {
        var figures = ProcessFigures()
        if let fields = statFields() {
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            if let user = Double(fields[safe: 11] ?? ""), let system = Double(fields[safe: 12] ?? ""), ticks > 0 {
                figures.cpuSeconds = (user + system) / ticks
            }
            if let pages = Int(fields[safe: 21] ?? "") { figures.residentBytes = pages * Int(sysconf(Int32(_SC_PAGESIZE))) }
        }
        // The listing's own descriptor is counted too, as every Prometheus client does.
        figures.openDescriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count
        if let limits = text("/proc/self/limits"),
           let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") })
        {
            let words = line.dropFirst("Max open files".count).split(separator: " ")
            figures.maxDescriptors = words.first.flatMap { Int($0) }
        }
        return figures
    }

    /// Seconds since the Unix epoch when this process started: boot time + start ticks.
    static func startTime() -> Double? {
        guard let fields = statFields(), let startTicks = Double(fields[safe: 19] ?? ""),
              let stat = text("/proc/stat"),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Double(line.dropFirst("btime ".count))
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ticks > 0 ? boot + startTicks / ticks : nil
    }

    /// `/proc/self/stat` fields after the command name (which may hold spaces and
    /// parentheses): index 0 is field 3 (state), so field n is at index n − 3.
    private static func statFields() -> [Substring]? {
        guard let stat = text("/proc/self/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    private static func text(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
