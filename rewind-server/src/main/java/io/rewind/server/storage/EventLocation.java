package io.rewind.server.storage;

/** Where an event is stored: its stream, its version in that stream and its global position. */
public record EventLocation(String stream, long streamVersion, long globalPosition) {}
