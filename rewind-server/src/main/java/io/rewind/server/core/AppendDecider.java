package io.rewind.server.core;

import io.rewind.server.storage.EventLocation;
import io.rewind.server.storage.EventStorage;
import io.rewind.server.storage.ReadDirection;
import io.rewind.server.storage.StoredEvent;
import io.rewind.server.storage.StreamState;
import io.rewind.server.storage.Visibility;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides a group of appends against the store, in order: an append may depend on the one before it
 * in the same group. Each append is a duplicate of one already stored (same ids, same stream, same
 * order: its original result), conflicts with its expected version, or is accepted with the next
 * global positions and stream versions. Given the same store, the same appends (ids included) and
 * the same commit time, it decides the same: that is what lets every member of a replicated group
 * apply a log entry on its own and end up with identical events.
 *
 * <p>Owned by one thread, the store's only writer, which tells it what it wrote with {@link #written}.
 */
public final class AppendDecider {
    private static final Logger log = LoggerFactory.getLogger(AppendDecider.class);

    /** Stream heads known without asking the storage; bounded, the least recently used go first. */
    private static final int HEAD_CACHE_STREAMS = 100_000;

    /**
     * The outcome of each append of a group, in order, and what to write for them.
     *
     * @param toWrite the accepted appends' events, in position order
     */
    public record Decision<T>(List<AppendOutcome<T>> outcomes, List<StoredEvent> toWrite, long nextPosition,
            Map<String, Long> heads, long commitMicros, Map<String, StreamState> states, List<Long> erasures) {

        /** What to write for this decision. */
        public EventStorage.Changes changes() {
            return new EventStorage.Changes(toWrite, states, erasures);
        }
    }

    private final EventStorage storage;
    /** The global position of the next event written; -1 until the first decision asks the storage. */
    private long nextGlobalPosition = -1;
    /** The commit time of the newest event stored; commit times never decrease along the log. */
    private long lastCommitMicros = Long.MIN_VALUE;
    private final Map<String, Long> headCache = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > HEAD_CACHE_STREAMS;
        }
    };
    /**
     * Ids for events sent without one. They need to be unique, not unpredictable: a generator seeded
     * once from a secure source is enough, and far cheaper than {@link UUID#randomUUID()} per event.
     */
    private final SplittableRandom idSource = new SplittableRandom(new SecureRandom().nextLong());

    public AppendDecider(EventStorage storage) {
        this.storage = storage;
    }

    /** Forgets positions and heads: the store changed under the writer (reopened, replaced). */
    public void forget() {
        nextGlobalPosition = -1;
        headCache.clear();
    }

    /** A random (version 4) UUID, for an event sent without an id. */
    public UUID newEventId() {
        long most = idSource.nextLong() & ~0xF000L | 0x4000L;
        long least = idSource.nextLong() & ~(0xC000L << 48) | (0x8000L << 48);
        return new UUID(most, least);
    }

    /**
     * Decides the appends, in order, writing nothing.
     *
     * @param attachments  one per command, handed back in its outcome
     * @param commitMicros the commit time of every event accepted
     * @param capacity     whether to ask the storage for room ({@link EventStorage#capacityProblem}); a
     *                     replicated entry is applied whatever the local disk says, since every member must
     *                     store the same
     */
    public <T> Decision<T> decide(List<AppendCommand> commands, List<T> attachments, long commitMicros,
            boolean capacity) {
        if (nextGlobalPosition < 0) {
            nextGlobalPosition = storage.nextPosition();
            lastCommitMicros = newestCommitMicros();
        }
        // A clock that went back (or a new leader's clock behind the old one's) must not make the log's commit
        // times decrease: reads from a time search them. Every member decides the same from the same store.
        long micros = Math.max(commitMicros, lastCommitMicros);
        Group group = new Group(nextGlobalPosition, storedIds(commands), micros, capacity);
        List<AppendOutcome<T>> outcomes = new ArrayList<>(commands.size());
        for (int i = 0; i < commands.size(); i++) {
            AppendCommand command = commands.get(i);
            T attachment = attachments.get(i);
            try {
                outcomes.add(group.apply(command, attachment));
            } catch (RequestException e) {
                outcomes.add(AppendOutcome.failure(attachment, e.error()));
            } catch (RuntimeException e) {
                log.error("Could not check the append to {}", command.describeStreams(), e);
                outcomes.add(AppendOutcome.failure(attachment,
                        RequestError.of(ErrorCode.INTERNAL, "server error checking the append: " + e.getMessage())));
            }
        }
        return new Decision<>(outcomes, group.toWrite, group.nextPosition, group.heads, micros, group.states,
                group.erasures);
    }

    /** The decision's events are stored: later decisions follow them. */
    public void written(Decision<?> decision) {
        nextGlobalPosition = decision.nextPosition();
        headCache.putAll(decision.heads());
        if (!decision.toWrite().isEmpty()) {
            lastCommitMicros = decision.commitMicros();
        }
    }

    private long newestCommitMicros() {
        if (nextGlobalPosition == 0) {
            return Long.MIN_VALUE;
        }
        List<StoredEvent> newest = storage.readAll(nextGlobalPosition - 1, ReadDirection.BACKWARD, 1, Long.MAX_VALUE);
        return newest.isEmpty() ? Long.MIN_VALUE : newest.get(0).commitTimestampMicros();
    }

    /**
     * Where the group's event ids are already stored, looked up in one batch (an id stored nowhere
     * is absent); null when the batched lookup failed.
     */
    private Map<UUID, EventLocation> storedIds(List<AppendCommand> commands) {
        List<UUID> ids = new ArrayList<>();
        for (AppendCommand command : commands) {
            if (command.operation() instanceof StreamOperation.Erase erase) {
                ids.add(erase.eventId());
            }
            for (StreamPart part : command.parts()) {
                for (ProposedEvent event : part.events()) {
                    if (event.eventId() != null) {
                        ids.add(event.eventId());
                    }
                }
            }
        }
        try {
            return storage.locateAll(ids);
        } catch (RuntimeException e) {
            // Each append then looks its ids up alone, and fails alone if the storage does.
            log.warn("Could not look up the {} event ids of a group at once: {}", ids.size(), e.toString());
            return null;
        }
    }

    /** Stream heads and event ids as they will be once the group is written. */
    private final class Group {
        private final Map<String, Long> heads = new HashMap<>();
        /** Streams' lifecycles as the group's operations leave them. */
        private final Map<String, StreamState> states = new HashMap<>();
        private final List<Long> erasures = new ArrayList<>();
        private final Map<UUID, EventLocation> ids = new HashMap<>();
        private final List<StoredEvent> toWrite = new ArrayList<>();
        private final long commitMicros;
        private final boolean capacity;
        /** Where the group's ids were stored before it, or null to look each up alone. */
        private final Map<UUID, EventLocation> stored;
        private long nextPosition;
        /** The position of the group's first event: those from here on are in {@link #toWrite}. */
        private final long nextGlobalPositionAtStart;
        /** Payload of {@link #toWrite}, as {@link StoredEvent#payloadSize()} counts it. */
        private long bytes;

        Group(long nextPosition, Map<UUID, EventLocation> stored, long commitMicros, boolean capacity) {
            this.nextPosition = nextPosition;
            this.nextGlobalPositionAtStart = nextPosition;
            this.stored = stored;
            this.commitMicros = commitMicros;
            this.capacity = capacity;
        }

        <T> AppendOutcome<T> apply(AppendCommand command, T attachment) {
            if (command.operation() != null) {
                return AppendOutcome.done(attachment, operate(command.operation()));
            }
            // First: a retry of an append already stored gets its original result, even if its condition or
            // expected versions would now fail (because of its own events).
            AppendResult duplicate = findDuplicate(command);
            if (duplicate != null) {
                return AppendOutcome.success(attachment, duplicate, List.of());
            }
            Map<String, Long> partHeads = new HashMap<>();
            long payload = command.payloadBytes();
            for (StreamPart part : command.parts()) {
                if (stateOf(part.stream()).tombstoned()) {
                    throw tombstoned(part.stream(), "append to it");
                }
                long head = heads.computeIfAbsent(part.stream(), this::committedHead);
                if (!part.expectedVersion().matches(head)) {
                    throw RequestError.wrongExpectedVersion(part.stream(), part.expectedVersion(), head)
                            .asException();
                }
                partHeads.put(part.stream(), head);
            }
            if (command.condition() != null) {
                long matching = firstMatch(command.condition());
                if (matching >= 0) {
                    throw RequestError.conditionFailed(command.describeStreams(), command.condition(), matching)
                            .asException();
                }
            }
            if (capacity) {
                String full = storage.capacityProblem(toWrite.size() + command.eventCount(), bytes + payload);
                if (full != null) {
                    throw RequestException.of(ErrorCode.UNAVAILABLE, full);
                }
            }
            bytes += payload;
            List<StoredEvent> written = new ArrayList<>(command.eventCount());
            List<AppendResult.StreamResult> streams = new ArrayList<>(command.parts().size());
            long first = nextPosition;
            for (StreamPart part : command.parts()) {
                long head = partHeads.get(part.stream());
                long partFirst = nextPosition;
                for (ProposedEvent event : part.events()) {
                    UUID id = event.eventId() != null ? event.eventId() : newEventId();
                    StoredEvent stored = new StoredEvent(id, part.stream(), ++head, nextPosition++, event.type(),
                            event.data(), event.metadata(), commitMicros, event.tags());
                    written.add(stored);
                    ids.put(id, stored.location());
                }
                heads.put(part.stream(), head);
                streams.add(new AppendResult.StreamResult(part.stream(), partFirst, nextPosition - 1, head));
            }
            toWrite.addAll(written);
            return AppendOutcome.success(attachment, new AppendResult(first, nextPosition - 1,
                    streams.get(0).lastVersion(), false, perStream(streams)), written);
        }

        /**
         * The first event matching the condition: among those stored before the group, then among the group's
         * own accepted appends (which the storage does not hold yet). -1 for none.
         */
        private long firstMatch(AppendCondition condition) {
            // Events a stream's lifecycle hides do not count: decided at the group's commit time, the same on every
            // member, whenever each member's cleanup removes them.
            long stored = storage.firstMatch(condition.failIfEventsMatch(), condition.after());
            while (stored >= 0 && hidden(stored)) {
                stored = storage.firstMatch(condition.failIfEventsMatch(), stored);
            }
            if (stored >= 0) {
                return stored;
            }
            for (StoredEvent pending : toWrite) {
                if (pending.globalPosition() > condition.after() && condition.failIfEventsMatch().matches(pending)) {
                    return pending.globalPosition();
                }
            }
            return -1;
        }

        /**
         * The original result when every event of the append was already committed, in the same streams and
         * order; null when none was; an error when only some were.
         */
        private AppendResult findDuplicate(AppendCommand command) {
            List<ProposedEvent> firstPart = command.parts().get(0).events();
            EventLocation first = firstPart.get(0).eventId() == null ? null : locate(firstPart.get(0).eventId());
            List<AppendResult.StreamResult> streams = new ArrayList<>(command.parts().size());
            int index = 0;
            for (StreamPart part : command.parts()) {
                EventLocation partFirst = null;
                for (int i = 0; i < part.events().size(); i++, index++) {
                    UUID id = part.events().get(i).eventId();
                    EventLocation found = id == null ? null : (index == 0 ? first : locate(id));
                    if (i == 0) {
                        partFirst = found;
                    }
                    boolean matches = first != null && found != null && partFirst != null
                            && found.stream().equals(part.stream())
                            && found.streamVersion() == partFirst.streamVersion() + i
                            && found.globalPosition() == first.globalPosition() + index;
                    if (first == null && found != null || first != null && !matches) {
                        String mismatch = "event " + i + " of the append to stream '" + part.stream()
                                + "' does not match what is stored: ";
                        if (found == null) {
                            throw RequestException.of(ErrorCode.INVALID_REQUEST, mismatch + "event " + id
                                    + " is not stored, but event " + firstPart.get(0).eventId() + " is");
                        }
                        // Where it is stored tells of that stream: only for a client that may read it.
                        throw new RequestError(ErrorCode.INVALID_REQUEST, mismatch + "event id " + id + " is already"
                                + " stored in stream '" + found.stream() + "' at version " + found.streamVersion()
                                + ", position " + found.globalPosition(), null, null, -1,
                                new RequestError.Reveals(found.stream(), mismatch + "event id " + id + " is already"
                                        + " stored elsewhere, in a stream this key may not read (event ids are unique"
                                        + " in the whole store: give each new event an id of its own)"))
                                .asException();
                    }
                }
                if (first != null) {
                    int last = part.events().size() - 1;
                    streams.add(new AppendResult.StreamResult(part.stream(), partFirst.globalPosition(),
                            partFirst.globalPosition() + last, partFirst.streamVersion() + last));
                }
            }
            if (first == null) {
                return null;
            }
            return new AppendResult(first.globalPosition(), first.globalPosition() + index - 1,
                    streams.get(0).lastVersion(), true, perStream(streams));
        }

        /** Each stream's result, for a multi-stream append; a one-stream append's result says it all. */
        private List<AppendResult.StreamResult> perStream(List<AppendResult.StreamResult> streams) {
            return streams.size() == 1 ? List.of() : streams;
        }

        private boolean hidden(long position) {
            List<StoredEvent> event = storage.readAll(position, ReadDirection.FORWARD, 1, Long.MAX_VALUE);
            if (event.isEmpty() || event.get(0).globalPosition() != position) {
                return true;
            }
            StoredEvent found = event.get(0);
            long head = heads.computeIfAbsent(found.stream(), this::committedHead);
            return stateOf(found.stream()).hides(found.streamVersion(), found.commitTimestampMicros(), head,
                    commitMicros);
        }

        private StreamState stateOf(String stream) {
            StreamState pending = states.get(stream);
            return pending != null ? pending : storage.streamState(stream);
        }

        private RequestException tombstoned(String stream, String what) {
            return RequestException.of(ErrorCode.STREAM_DELETED, "stream '" + stream + "' was deleted for good"
                    + " (tombstoned): cannot " + what + "; nothing was changed");
        }

        private OperationResult operate(StreamOperation operation) {
            if (operation instanceof StreamOperation.Erase erase) {
                EventLocation location = locate(erase.eventId());
                if (location == null) {
                    throw RequestException.of(ErrorCode.NOT_FOUND, "no event with id " + erase.eventId()
                            + " is stored; nothing was erased");
                }
                long position = location.globalPosition();
                if (position >= nextGlobalPositionAtStart) {
                    // Appended earlier in this same group: erased before it is written.
                    int index = (int) (position - nextGlobalPositionAtStart);
                    toWrite.set(index, toWrite.get(index).erase());
                } else if (!erasures.contains(position)) {
                    erasures.add(position);
                }
                long head = heads.computeIfAbsent(location.stream(), this::committedHead);
                return new OperationResult(location.stream(), head, stateOf(location.stream()), position,
                        location.streamVersion());
            }
            String stream;
            StreamState state;
            long head;
            if (operation instanceof StreamOperation.Delete delete) {
                stream = delete.stream();
                state = stateOf(stream);
                head = heads.computeIfAbsent(stream, this::committedHead);
                if (state.tombstoned()) {
                    throw tombstoned(stream, "delete it again");
                }
                if (!delete.expected().matches(head)) {
                    throw RequestError.wrongExpectedVersion(stream, delete.expected(), head).asException();
                }
                if (head < 0 && !delete.tombstone()) {
                    throw RequestException.of(ErrorCode.NOT_FOUND, "stream '" + stream + "' does not exist;"
                            + " nothing was deleted");
                }
                state = state.withTruncateBefore(head + 1);
                if (delete.tombstone()) {
                    state = state.tombstone();
                }
            } else if (operation instanceof StreamOperation.Truncate truncate) {
                stream = truncate.stream();
                state = stateOf(stream);
                head = heads.computeIfAbsent(stream, this::committedHead);
                if (state.tombstoned()) {
                    throw tombstoned(stream, "truncate it");
                }
                if (head < 0) {
                    throw RequestException.of(ErrorCode.NOT_FOUND, "stream '" + stream + "' does not exist;"
                            + " nothing was truncated");
                }
                if (truncate.beforeVersion() < 0 || truncate.beforeVersion() > head + 1) {
                    throw RequestException.of(ErrorCode.INVALID_REQUEST, "stream '" + stream + "' can be truncated"
                            + " before a version from 0 to " + (head + 1) + " (its last version + 1), not "
                            + truncate.beforeVersion());
                }
                state = state.withTruncateBefore(truncate.beforeVersion());
            } else {
                StreamOperation.SetRetention retention = (StreamOperation.SetRetention) operation;
                stream = retention.stream();
                state = stateOf(stream);
                head = heads.computeIfAbsent(stream, this::committedHead);
                if (state.tombstoned()) {
                    throw tombstoned(stream, "change its retention");
                }
                // What the old retention hid stays hidden: a looser one must not bring back events that a member's
                // cleanup may already have removed (every member would then return something else).
                long hiddenBelow = Visibility.firstVisibleVersion(storage, stream, state, head, commitMicros);
                state = state.withTruncateBefore(Math.max(hiddenBelow, 0))
                        .withRetention(retention.maxAgeMicros(), retention.maxCount());
            }
            states.put(stream, state);
            return new OperationResult(stream, head, state, -1, -1);
        }

        private long committedHead(String stream) {
            Long cached = headCache.get(stream);
            return cached != null ? cached : storage.streamVersion(stream);
        }

        /**
         * Where the event with this id is, for idempotency and erasure; null when no event has it, or when its
         * stream's lifecycle hides it (deleted, truncated, expired): such an id is forgotten, decided at the group's
         * commit time, so that every member answers alike whether or not its cleanup removed the id already.
         */
        private EventLocation locate(UUID id) {
            EventLocation pending = ids.get(id);
            if (pending != null) {
                return pending;
            }
            EventLocation found = stored != null ? stored.get(id) : storage.locate(id).orElse(null);
            return found == null || hidden(found) ? null : found;
        }

        private boolean hidden(EventLocation location) {
            StreamState state = stateOf(location.stream());
            if (state.hidesNothing()) {
                return false;
            }
            long head = heads.computeIfAbsent(location.stream(), this::committedHead);
            if (location.streamVersion() < state.firstVersionByPosition(head)) {
                return true;
            }
            return state.maxAgeMicros() > 0 && hidden(location.globalPosition());
        }
    }
}
