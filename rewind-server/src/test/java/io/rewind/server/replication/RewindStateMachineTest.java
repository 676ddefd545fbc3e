package io.rewind.server.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.rewind.server.replication.log.ReplicatedAppends;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** What may enter the replicated log: only this member's proposer, only entries that decode. */
class RewindStateMachineTest {
    private final ClientId proposer = ClientId.randomId();
    private final RewindStateMachine machine = new RewindStateMachine(null, entry -> {}, proposer, () -> {});

    @Test
    void theMembersOwnProposerProposesARewindEntry() throws Exception {
        TransactionContext transaction = machine.startTransaction(request(proposer, ReplicatedAppends.newBuilder()
                .setSequence(1).setCommitTimestampMicros(1).build().toByteArray()));
        assertThat(transaction.getException()).isNull();
    }

    @Test
    void anyOtherRaftClientIsRefusedWhateverItSends() throws Exception {
        TransactionContext transaction = machine.startTransaction(request(ClientId.randomId(),
                ReplicatedAppends.newBuilder().setSequence(1).build().toByteArray()));
        assertThat(transaction.getException()).hasMessageContaining("only the members of the group propose");
    }

    @Test
    void anEntryThatDoesNotDecodeIsNeverProposed() throws Exception {
        TransactionContext transaction = machine.startTransaction(request(proposer, new byte[] {(byte) 0xff, 1, 2}));
        assertThat(transaction.getException()).hasMessageContaining("not a Rewind entry");
    }

    private static RaftClientRequest request(ClientId client, byte[] entry) {
        return RaftClientRequest.newBuilder().setClientId(client).setServerId(RaftPeerId.valueOf("n1"))
                .setGroupId(RaftGroupId.randomId()).setCallId(1).setMessage(Message.valueOf(ByteString.copyFrom(entry)))
                .setType(RaftClientRequest.writeRequestType()).build();
    }
}
