// Package archive is reprove's one archive reader: it detects archive and
// compression formats by content, iterates entries as a stream, and
// extracts them safely over os.Root, all under one set of Limits. It
// imports no other reprove package, so that both diff and rebuild use it.
//
// # Reading
//
// Open (random access) and NewReader (a stream) return a *Reader: Next
// gives each entry's Header (raw name, type, mode, owner, mtime, logical
// size, link target, sparseness, format extras) and Read its content. A
// lister never has to extract: with Open on an uncompressed tar, ar or
// cpio, Header.Offset says where a content lies so it can be read in
// place. DetectCompression is the one compression sniffer; Decompress
// decodes one stream (gzip, xz, zstd, bzip2, lzma) under the limits.
//
// # Limits
//
// One Limits value bounds everything a hostile input can cost: the bytes
// it unpacks to (sparse files count whole), the ratio of output to input
// (past a grace), entries, name length, nesting depth, the decoders'
// memory and the size of tables decoded whole. Catalogue lists each with
// its flag and default; the CLI builds its flags from it. Past a limit the
// reader returns a *LimitError naming the input, the entry, the limit and
// the flag, and returns no byte past it.
//
// # Extracting
//
// Extract and ExtractFile write a Reader's entries under an os.Root:
// absolute names, ".." components, links that leave the tree, writing
// through links, devices and fifos are refused; SafeMode drops setuid,
// setgid, sticky and world-writable bits. A tree left by an error is the
// caller's to discard.
//
// # Image layers
//
// An OCI layer applier sits on the iterator rather than on Extract,
// because whiteouts delete what lower layers wrote: open the layer with
// NewReader (the layer's compression is peeled), and for each Header
// clean the name with Clean (refusing what it refuses), treat a base name
// ".wh..wh..opq" or ".wh.NAME" as a whiteout in the layer code, check
// symbolic link targets with LinkStaysInside and hard link targets with
// Clean, write contents with SafeMode, and let the Reader's limits bound
// the layer (a sparse entry may be refused outright: Header.Sparse).
package archive
