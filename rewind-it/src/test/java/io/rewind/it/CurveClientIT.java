package io.rewind.it;

import io.rewind.client.RewindClient;
import io.rewind.testkit.ServerProcess;
import io.rewind.testkit.ServerUnderTest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The whole client contract again, with every connection over CURVE and a key that may do everything. */
class CurveClientIT extends ClientContractIT {
    private CurveKeys.Pair serverKeys;
    private CurveKeys.Pair clientKeys;

    @Override
    String storage() {
        return "rocksdb";
    }

    @Override
    ServerUnderTest start() {
        Path keys = dataDir.resolve("keys");
        serverKeys = CurveKeys.make(keys, "server");
        clientKeys = CurveKeys.make(keys, "app");
        Path authorized = keys.resolve("authorized_keys");
        CurveKeys.writeAuthorized(authorized, List.of("# the contract's client", clientKeys.line("read=* write=* admin")));
        List<String> options = new ArrayList<>(List.of(OPTIONS));
        options.addAll(List.of("--curve-secret-key-file", serverKeys.secretFile().toString(),
                "--authorized-keys", authorized.toString()));
        // With C2, as in production, though the suite's servers run on C1 alone: C2 once miscompiled the cipher
        // under this very test (see rewind-nacl's JeroMqCurveTest).
        return ServerProcess.start(getClass().getSimpleName(), dataDir.resolve("data"), storage(),
                List.of("-XX:TieredStopAtLevel=4"), options.toArray(new String[0]));
    }

    @Override
    RewindClient.Builder configure(RewindClient.Builder builder) {
        return builder.curveServerKeyFile(serverKeys.publicFile()).curveKeyPairFile(clientKeys.secretFile());
    }
}
