#include "qtr/blob.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "qtr/error.hpp"

namespace qtr {

namespace {
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

std::shared_ptr<const Blob> Blob::map_file(const std::filesystem::path& path) {
  std::shared_ptr<Blob> blob(new Blob());
  blob->name_ = path.string();
  FileDescriptor file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) {
    throw Error(Errc::io, "cannot open '" + path.string() + "': " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) {
    throw Error(Errc::io, "cannot stat '" + path.string() + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    throw Error(Errc::io, "'" + path.string() + "' is not a regular file");
  }
  blob->size_ = static_cast<size_t>(st.st_size);
  if (blob->size_ == 0) {
    blob->data_ = blob->owned_.data();  // an empty file: nothing to map
    return blob;
  }
  void* address = ::mmap(nullptr, blob->size_, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (address == MAP_FAILED) {
    throw Error(Errc::io, "cannot mmap '" + path.string() + "': " + std::strerror(errno));
  }
  blob->data_ = static_cast<const uint8_t*>(address);
  blob->mapped_ = true;
  return blob;
}

std::shared_ptr<const Blob> Blob::read_file(const std::filesystem::path& path) {
  FileDescriptor file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) throw Error(Errc::io, "cannot open '" + path.string() + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) {
    throw Error(Errc::io, "cannot stat '" + path.string() + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw Error(Errc::io, "'" + path.string() + "' is not a regular file");
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(file.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(Errc::io, "cannot read '" + path.string() + "': " + (n < 0 ? std::strerror(errno) : "short read"));
    done += static_cast<size_t>(n);
  }
  return from_bytes(std::move(bytes), path.string());
}

std::shared_ptr<const Blob> Blob::from_bytes(std::vector<uint8_t> bytes, std::string name) {
  std::shared_ptr<Blob> blob(new Blob());
  blob->owned_ = std::move(bytes);
  blob->data_ = blob->owned_.data();
  blob->size_ = blob->owned_.size();
  blob->name_ = std::move(name);
  return blob;
}

Blob::~Blob() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace qtr
