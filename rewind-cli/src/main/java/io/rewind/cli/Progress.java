package io.rewind.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A one-line progress display on standard error for long work, redrawn five times a second from a
 * source of "done so far" and left on its line, complete, when the work ends. Shown only when
 * standard error is a terminal: a pipe, a file or a log collector gets nothing, so scripts see only
 * the command's result.
 */
final class Progress implements AutoCloseable {
    /** What is counted: decides how amounts are printed. */
    enum Unit {
        EVENTS, ENTRIES, BYTES
    }

    private static final long REDRAW_MILLIS = 200;
    private static final int BAR_WIDTH = 24;

    private final PrintStream err;
    private final String label;
    private final Unit unit;
    private final LongSupplier done;
    private final long start = System.nanoTime();
    private final ScheduledExecutorService redraw;
    private boolean closed;
    private volatile long total;
    private int width;

    private Progress(PrintStream err, String label, Unit unit, long total, LongSupplier done) {
        this.err = err;
        this.label = label;
        this.unit = unit;
        this.total = total;
        this.done = done;
        if (err == null) {
            this.redraw = null;
            return;
        }
        this.redraw = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "rewind-progress");
            thread.setDaemon(true);
            return thread;
        });
        redraw.scheduleAtFixedRate(this::draw, REDRAW_MILLIS, REDRAW_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Starts a display on standard error when it is a terminal, else one that shows nothing.
     *
     * @param total how much there is to do, or a negative number when nobody knows
     * @param done  how much is done so far; called from the display's own thread
     */
    static Progress start(String label, Unit unit, long total, LongSupplier done) {
        return new Progress(isATerminal(2) ? System.err : null, label, unit, total, done);
    }

    /** A display that shows nothing, for work whose own output goes to the terminal. */
    static Progress hidden() {
        return new Progress(null, "", Unit.EVENTS, -1, () -> 0);
    }

    /** Sets how much there is to do, once it is known. */
    void total(long total) {
        this.total = total;
    }

    private synchronized void draw() {
        if (err == null || closed) {
            return;
        }
        String line = render(label, unit, done.getAsLong(), total, System.nanoTime() - start);
        // Pad with spaces over what a longer earlier line left.
        err.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
        err.flush();
        width = line.length();
    }

    /** Stops redrawing and leaves the line as the work ended, so that what comes next starts on a new one. */
    @Override
    public synchronized void close() {
        if (err == null || closed) {
            return;
        }
        draw();
        closed = true;
        redraw.shutdownNow();
        err.println();
        err.flush();
    }

    /** One line of the display: a bar and a percentage when the total is known, the amount and time always. */
    static String render(String label, Unit unit, long done, long total, long elapsedNanos) {
        StringBuilder line = new StringBuilder(label).append("  ");
        if (total > 0) {
            double fraction = Math.min(1.0, (double) done / total);
            int filled = (int) Math.round(fraction * BAR_WIDTH);
            line.append('[').append("#".repeat(filled)).append("-".repeat(BAR_WIDTH - filled)).append("] ")
                    .append(String.format(Locale.ROOT, "%3d%%", (int) Math.floor(fraction * 100))).append("  ")
                    .append(amount(unit, done)).append(" of ").append(amount(unit, total));
        } else {
            line.append(amount(unit, done));
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(elapsedNanos);
        return line.append("  ").append(seconds / 60).append(String.format(Locale.ROOT, ":%02d", seconds % 60))
                .toString();
    }

    static String amount(Unit unit, long amount) {
        if (unit != Unit.BYTES) {
            return String.format(Locale.ROOT, "%,d %s", amount, unit.name().toLowerCase(Locale.ROOT));
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = amount;
        int index = 0;
        while (value >= 1024 && index < units.length - 1) {
            value /= 1024;
            index++;
        }
        return index == 0 ? amount + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[index]);
    }

    /**
     * Whether a standard descriptor (1 output, 2 error) is a terminal. Java 17 can only say whether the
     * console as a whole (standard input and output) is one, so on Linux the descriptor's target is read
     * from /proc, the way {@code tty} does it; elsewhere the console stands in.
     */
    static boolean isATerminal(int descriptorNumber) {
        if ("dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        Path descriptor = Path.of("/proc/self/fd/" + descriptorNumber);
        if (Files.exists(descriptor, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try {
                String target = Files.readSymbolicLink(descriptor).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }
        return System.console() != null;
    }

    /** The bytes of every file under a directory, 0 when there is none (yet). */
    static long directorySize(Path directory) {
        try (var files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).mapToLong(file -> {
                try {
                    return Files.size(file);
                } catch (IOException e) {
                    return 0; // a file that went away between the walk and the size
                }
            }).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }
}
