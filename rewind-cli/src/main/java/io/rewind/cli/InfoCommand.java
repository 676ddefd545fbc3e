package io.rewind.cli;

import io.rewind.client.RewindClient;
import io.rewind.client.ServerInfo;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "info", mixinStandardHelpOptions = true, description = "Print what the server says about itself.")
final class InfoCommand implements Callable<Integer> {
    @ParentCommand
    RewindCli root;

    @Spec
    CommandSpec spec;

    @Option(names = "--format", paramLabel = "text|json", defaultValue = "text",
            description = "text or json (default: ${DEFAULT-VALUE}).")
    EventFormat format;

    @Override
    public Integer call() {
        ServerInfo info;
        try (RewindClient client = root.client()) {
            info = client.serverInfo();
        }
        PrintWriter out = spec.commandLine().getOut();
        if (format == EventFormat.JSON) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("endpoint", root.endpoint);
            fields.put("version", info.version());
            fields.put("head_position", info.headPosition());
            fields.put("stream_count", info.streamCount());
            fields.put("storage_engine", info.storageEngine());
            fields.put("stream_endpoint", info.streamEndpoint());
            fields.put("role", info.role());
            if (info.replicated()) {
                fields.put("node_id", info.nodeId());
                fields.put("leader_id", info.leaderId());
                fields.put("term", info.term());
                fields.put("commit_index", info.commitIndex());
                fields.put("applied_position", info.appliedPosition());
            }
            out.println(EventFormat.jsonObject(fields));
        } else {
            out.printf("endpoint:        %s%nversion:         %s%nhead position:   %d%nstreams:         %d%n"
                            + "storage engine:  %s%nlive feed:       %s%nrole:            %s%n", root.endpoint,
                    info.version(), info.headPosition(), info.streamCount(), info.storageEngine(),
                    info.streamEndpoint(), info.role());
            if (info.replicated()) {
                out.printf("node:            %s%nleader:          %s%nterm:            %d%ncommit index:    %d%n"
                                + "members:         %s%n", info.nodeId(), info.leaderId().isEmpty() ? "(none known)"
                                : info.leaderId(), info.term(), info.commitIndex(), String.join(", ",
                                info.members().stream().map(m -> m.id() + " " + m.commandEndpoint()).toList()));
            }
        }
        out.flush();
        return 0;
    }
}
