package io.rewind.client;

/** The event an erasure emptied: where it is (it stays there, without its data and metadata). */
public record ErasedEvent(long globalPosition, String stream, long streamVersion) {}
