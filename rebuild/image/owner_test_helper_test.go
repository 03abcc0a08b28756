package image

import (
	"os"
	"syscall"
)

func ownerGID(fi os.FileInfo) int { return int(fi.Sys().(*syscall.Stat_t).Gid) }
