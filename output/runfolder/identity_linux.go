package runfolder

import (
	"os"
	"syscall"
)

// identity is a file's device, inode, size and times (see matched).
func identity(st os.FileInfo) (fileIdentity, bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileIdentity{}, false
	}
	return fileIdentity{dev: uint64(s.Dev), ino: uint64(s.Ino), size: s.Size,
		mtime: s.Mtim.Nano(), ctime: s.Ctim.Nano()}, true
}
