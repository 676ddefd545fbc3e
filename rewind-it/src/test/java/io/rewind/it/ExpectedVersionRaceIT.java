package io.rewind.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.client.AppendResult;
import io.rewind.client.EventData;
import io.rewind.client.ExpectedVersion;
import io.rewind.client.RecordedEvent;
import io.rewind.client.RewindClient;
import io.rewind.client.WrongExpectedVersionException;
import io.rewind.testkit.ServerProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many writers race to extend one stream with exact expected versions: exactly one append wins
 * each version, and every loser learns the stream's actual version.
 */
class ExpectedVersionRaceIT {
    private static final int WRITERS = 8;
    private static final int TARGET = 400;

    @TempDir
    Path tmp;

    private record Win(String writer, long version, String data) {}

    private record Loss(long expected, long actual) {}

    @Test
    void exactlyOneWriterWinsEachVersion() throws Exception {
        List<Win> wins = Collections.synchronizedList(new ArrayList<>());
        List<Loss> losses = Collections.synchronizedList(new ArrayList<>());
        try (ServerProcess server = ServerProcess.start("race", tmp.resolve("data"), "rocksdb");
                RewindClient client = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build()) {
            client.append("contended", ExpectedVersion.noStream(), EventData.of("Start", "start"));
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                String name = "writer-" + w;
                Thread thread = new Thread(() -> {
                    try (RewindClient own = RewindClient.builder().commandEndpoint(server.commandEndpoint()).build()) {
                        go.await();
                        long believed = 0;
                        int n = 0;
                        while (believed < TARGET) {
                            String data = name + "/" + n++;
                            try {
                                AppendResult result = own.append("contended", ExpectedVersion.exact(believed),
                                        EventData.of("Step", data));
                                wins.add(new Win(name, result.nextExpectedVersion(), data));
                                believed = result.nextExpectedVersion();
                            } catch (WrongExpectedVersionException e) {
                                losses.add(new Loss(believed, e.actualVersion()));
                                believed = e.actualVersion();
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, name);
                threads.add(thread);
                thread.start();
            }
            go.countDown();
            for (Thread thread : threads) {
                thread.join(120_000);
                assertThat(thread.isAlive()).isFalse();
            }

            List<RecordedEvent> stream = client.readStream("contended").toList();
            assertThat(losses).as("the writers really raced").isNotEmpty();
            // The stream is dense and ends where the writers stopped, possibly a few versions past TARGET.
            for (int v = 0; v < stream.size(); v++) {
                assertThat(stream.get(v).streamVersion()).isEqualTo(v);
            }
            // One win per version, and it is what the stream holds at that version.
            Map<Long, Win> byVersion = new HashMap<>();
            for (Win win : wins) {
                assertThat(byVersion.put(win.version(), win)).as("version %s won twice", win.version()).isNull();
            }
            assertThat(byVersion.keySet()).hasSize(stream.size() - 1);
            for (int v = 1; v < stream.size(); v++) {
                assertThat(stream.get(v).dataAsString()).isEqualTo(byVersion.get((long) v).data());
            }
            // A loser's expectation was stale: the actual version was ahead of it.
            for (Loss loss : losses) {
                assertThat(loss.actual()).isGreaterThan(loss.expected()).isLessThan(stream.size());
            }
        }
    }
}
