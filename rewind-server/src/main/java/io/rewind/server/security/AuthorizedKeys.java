package io.rewind.server.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The client keys that may connect, and what each may do, as {@code --authorized-keys} lists them:
 * one key per line, {@code NAME PUBLIC_KEY_Z85 PERMISSION...}, where a permission is
 * {@code read=PREFIX[,PREFIX...]}, {@code write=PREFIX[,PREFIX...]} (every stream whose name starts with
 * a prefix: {@code read=orders} grants {@code orders}, {@code orders-1} and {@code orders-archive};
 * {@code *} means every stream), {@code read-stream=NAME[,NAME...]}, {@code write-stream=NAME[,NAME...]}
 * (those streams exactly) or {@code admin}. A line whose first character (after blanks) is {@code #} is
 * a comment, and so is the rest of a line from a word that starts with {@code #} after the key. Immutable.
 */
public final class AuthorizedKeys {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}");
    private static final Pattern BLANKS = Pattern.compile("\\s+");

    /**
     * One key's line: its name, its public key in Z85 and its permissions.
     *
     * @param readStreams  streams the key may read, by exact name ({@code read-stream=})
     * @param writeStreams streams the key may append to, by exact name ({@code write-stream=})
     */
    public record Grant(String name, String publicKey, List<String> readPrefixes, List<String> writePrefixes,
            boolean admin, List<String> readStreams, List<String> writeStreams) {
        public Grant {
            readPrefixes = List.copyOf(readPrefixes);
            writePrefixes = List.copyOf(writePrefixes);
            readStreams = List.copyOf(readStreams);
            writeStreams = List.copyOf(writeStreams);
        }

        /** Whether the key may read the stream. */
        public boolean canRead(String stream) {
            return readStreams.contains(stream) || matches(readPrefixes, stream);
        }

        /** Whether the key may append to the stream. */
        public boolean canWrite(String stream) {
            return writeStreams.contains(stream) || matches(writePrefixes, stream);
        }

        /**
         * What both grants allow, and nothing else: a stream this grant and {@code other} may both read (or write),
         * admin only if both are. Prefixes intersect as prefixes do: of two where one starts with the other, the
         * longer; an exact name stays if the other grant allows it.
         */
        Grant intersect(Grant other) {
            return new Grant(name, publicKey, common(readPrefixes, other.readPrefixes),
                    common(writePrefixes, other.writePrefixes), admin && other.admin,
                    commonStreams(readStreams, other::canRead, other.readStreams, this::canRead),
                    commonStreams(writeStreams, other::canWrite, other.writeStreams, this::canWrite));
        }

        private static List<String> common(List<String> a, List<String> b) {
            java.util.Set<String> both = new java.util.LinkedHashSet<>();
            for (String x : a) {
                for (String y : b) {
                    if (x.equals("*") || !y.equals("*") && y.startsWith(x)) {
                        both.add(y);
                    } else if (y.equals("*") || x.startsWith(y)) {
                        both.add(x);
                    }
                }
            }
            return List.copyOf(both);
        }

        private static List<String> commonStreams(List<String> mine, java.util.function.Predicate<String> theyAllow,
                List<String> theirs, java.util.function.Predicate<String> iAllow) {
            java.util.Set<String> both = new java.util.LinkedHashSet<>();
            mine.stream().filter(theyAllow).forEach(both::add);
            theirs.stream().filter(iAllow).forEach(both::add);
            return List.copyOf(both);
        }

        /** Whether the key may read every stream: the global log and the live feeds are only for such keys. */
        public boolean readsEverything() {
            return readPrefixes.contains("*");
        }

        private static boolean matches(List<String> prefixes, String stream) {
            for (String prefix : prefixes) {
                if (prefix.equals("*") || stream.startsWith(prefix)) {
                    return true;
                }
            }
            return false;
        }

        /** The permissions as the file writes them, for error messages. */
        public String describe() {
            List<String> words = new ArrayList<>();
            if (!readPrefixes.isEmpty()) {
                words.add("read=" + String.join(",", readPrefixes));
            }
            if (!readStreams.isEmpty()) {
                words.add("read-stream=" + String.join(",", readStreams));
            }
            if (!writePrefixes.isEmpty()) {
                words.add("write=" + String.join(",", writePrefixes));
            }
            if (!writeStreams.isEmpty()) {
                words.add("write-stream=" + String.join(",", writeStreams));
            }
            if (admin) {
                words.add("admin");
            }
            return String.join(" ", words);
        }
    }

    private final Path file;
    private final Map<String, Grant> byKey;

    private AuthorizedKeys(Path file, Map<String, Grant> byKey) {
        this.file = file;
        this.byKey = byKey;
    }

    /** Reads the file; throws {@link IllegalArgumentException} naming the file, and the line when one is wrong. */
    public static AuthorizedKeys load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the authorized keys file " + file + ": "
                    + e.getClass().getSimpleName() + " " + e.getMessage(), e);
        }
        return parse(file, lines);
    }

    /**
     * What can still be trusted of a file that does not parse: the grants of the lines that do, by key; a key
     * listed on two lines is left out.
     */
    static Map<String, Grant> parseableLines(List<String> lines) {
        Map<String, Grant> byKey = new HashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String raw : lines) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                Grant grant = parseLine(BLANKS.split(line));
                if (seen.merge(grant.publicKey(), 1, Integer::sum) == 1) {
                    byKey.put(grant.publicKey(), grant);
                } else {
                    byKey.remove(grant.publicKey());
                }
            } catch (IllegalArgumentException e) {
                // Not trusted.
            }
        }
        return byKey;
    }

    /**
     * What stays in force when an edit of the file does not parse: a key stays only if a line that parses still
     * lists it, with what both its old and its new permissions allow ({@link Grant#intersect}); every other key is
     * revoked at once. So a revocation is never held back by a typo on another line, and a typo grants
     * nothing.
     */
    AuthorizedKeys restrictTo(List<String> brokenLines) {
        Map<String, Grant> parseable = parseableLines(brokenLines);
        Map<String, Grant> kept = new HashMap<>();
        for (Grant old : byKey.values()) {
            Grant edited = parseable.get(old.publicKey());
            if (edited != null) {
                kept.put(old.publicKey(), edited.intersect(old));
            }
        }
        return new AuthorizedKeys(file, Map.copyOf(kept));
    }

    /** Every listed key, in no order. */
    public java.util.Collection<Grant> grants() {
        return byKey.values();
    }

    /** Parses the lines of {@code file}; throws {@link IllegalArgumentException} naming the line that is wrong. */
    public static AuthorizedKeys parse(Path file, List<String> lines) {
        Map<String, Grant> byKey = new HashMap<>();
        Map<String, Integer> lineOfName = new HashMap<>();
        Map<String, Integer> lineOfKey = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            int number = i + 1;
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + " line " + number;
            Grant grant;
            try {
                grant = parseLine(BLANKS.split(line));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
            Integer sameName = lineOfName.putIfAbsent(grant.name(), number);
            if (sameName != null) {
                throw new IllegalArgumentException(where + ": the name '" + grant.name() + "' is already used on line "
                        + sameName + "; each key needs its own name, which errors and logs show");
            }
            Integer sameKey = lineOfKey.putIfAbsent(grant.publicKey(), number);
            if (sameKey != null) {
                throw new IllegalArgumentException(where + ": the key of '" + grant.name() + "' is already listed on line "
                        + sameKey + "; give a key its permissions on one line");
            }
            byKey.put(grant.publicKey(), grant);
        }
        return new AuthorizedKeys(file, Map.copyOf(byKey));
    }

    private static Grant parseLine(String[] words) {
        if (words.length < 2 || words[1].startsWith("#")) {
            throw new IllegalArgumentException("expected NAME PUBLIC_KEY_Z85 PERMISSION..., got only '" + words[0] + "'");
        }
        String name = words[0];
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a key name: letters, digits and . _ @ + -, at"
                    + " most 64, starting with a letter or digit");
        }
        String key = words[1];
        CurveKeyPair.decode("the public key of '" + name + "'", key);
        List<String> read = new ArrayList<>();
        List<String> write = new ArrayList<>();
        List<String> readStreams = new ArrayList<>();
        List<String> writeStreams = new ArrayList<>();
        boolean admin = false;
        int permissions = 0;
        for (int w = 2; w < words.length && !words[w].startsWith("#"); w++) {
            String word = words[w];
            permissions++;
            if (word.equals("admin")) {
                admin = true;
            } else if (word.startsWith("read=")) {
                read.addAll(prefixes(word, "read="));
            } else if (word.startsWith("write=")) {
                write.addAll(prefixes(word, "write="));
            } else if (word.startsWith("read-stream=")) {
                readStreams.addAll(prefixes(word, "read-stream="));
            } else if (word.startsWith("write-stream=")) {
                writeStreams.addAll(prefixes(word, "write-stream="));
            } else {
                throw new IllegalArgumentException("unknown permission '" + word + "' for '" + name + "'; use"
                        + " read=PREFIX[,PREFIX...], write=PREFIX[,PREFIX...] (streams whose names start so; * for"
                        + " every stream), read-stream=NAME[,NAME...], write-stream=NAME[,NAME...] (those streams"
                        + " exactly) or admin");
            }
        }
        if (permissions == 0) {
            throw new IllegalArgumentException("'" + name + "' has no permission; give read=..., write=... or admin"
                    + " (a key to be refused is one left out of the file)");
        }
        return new Grant(name, key, read, write, admin, readStreams, writeStreams);
    }

    private static List<String> prefixes(String word, String label) {
        List<String> prefixes = new ArrayList<>();
        for (String prefix : word.substring(label.length()).split(",", -1)) {
            if (prefix.isEmpty()) {
                throw new IllegalArgumentException("'" + word + "' has an empty prefix; write " + label
                        + "PREFIX[,PREFIX...], or " + label + "* for every stream");
            }
            prefixes.add(prefix);
        }
        return prefixes;
    }

    /** The grant of this public key (Z85), or null when it is not listed. */
    public Grant forKey(String publicKey) {
        return byKey.get(publicKey);
    }

    /** How many keys are listed. */
    public int size() {
        return byKey.size();
    }

    public Path file() {
        return file;
    }
}
