package io.rewind.client;

/**
 * A backup the server made.
 *
 * @param position   the global position of the newest event in it (-1 for an empty store): a store
 *                   restored from it holds exactly the events up to here
 * @param backupId   its id in its directory, 1 for the first
 * @param directory  the backup directory on the server's machine
 * @param newBytes   bytes it added to the directory; the rest it shares with earlier backups there
 * @param totalBytes bytes of all its files
 */
public record BackupResult(long position, int backupId, String directory, long newBytes, long totalBytes) {}
