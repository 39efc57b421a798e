// mapping owns one mapping of memory shared between processes: munmap(2) (or shmdt(2) for a
// System V attach) on destruction. Move-only; the address never changes, so pointers into it
// stay valid across moves. Both sides of a fork: each process unmaps its own copy.
//
// shared_page<T> is a T in anonymous shared memory, constructed with placement new before fork so
// that the processes of a fork see one object (atomics, futex words, published pids).
#pragma once

#include <cstddef>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

namespace ipcbench {

class mapping {
 public:
  enum class detach { munmap, shmdt };
  mapping() noexcept = default;
  // Adopts [addr, addr + size), released by `how`.
  mapping(void* addr, std::size_t size, detach how = detach::munmap) noexcept
      : addr_(static_cast<std::byte*>(addr)), size_(size), how_(how) {}
  mapping(mapping&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), size_(o.size_), how_(o.how_) {}
  mapping& operator=(mapping&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
      size_ = o.size_;
      how_ = o.how_;
    }
    return *this;
  }
  mapping(const mapping&) = delete;
  mapping& operator=(const mapping&) = delete;
  ~mapping() { reset(); }

  std::byte* data() const noexcept { return addr_; }
  std::size_t size() const noexcept { return size_; }
  explicit operator bool() const noexcept { return addr_ != nullptr; }
  // Unmaps now (munmap or shmdt); the mapping is empty afterwards.
  void reset() noexcept;

 private:
  std::byte* addr_ = nullptr;
  std::size_t size_ = 0;
  detach how_ = detach::munmap;
};

// mmap(MAP_SHARED | MAP_ANONYMOUS) of `size` zeroed bytes, read-write: made before fork, it is
// shared with the children. Throws std::system_error naming `what` and the size.
mapping map_shared_anonymous(std::size_t size, std::string_view what);

// mmap(MAP_SHARED) of the first `size` bytes of `fd`, read-write; the mapping outlives the
// descriptor. Throws std::system_error naming `what`.
mapping map_shared(int fd, std::size_t size, std::string_view what);

template <class T>
class shared_page {
  static_assert(std::is_trivially_destructible_v<T>,
                "each process of a fork holds the object: no destructor may run twice");
  static_assert(alignof(T) <= 4096, "mmap(2) aligns to a page");

 public:
  // Maps anonymous shared memory for a T and constructs it with `args` (value-initialised when
  // there are none). Throws std::system_error.
  template <class... Args>
  requires std::is_constructible_v<T, Args...>
  explicit shared_page(Args&&... args)
      : map_(map_shared_anonymous(sizeof(T), "shared page")),
        object_(::new (map_.data()) T(std::forward<Args>(args)...)) {}
  shared_page(shared_page&&) noexcept = default;
  shared_page& operator=(shared_page&&) noexcept = default;

  T* get() const noexcept { return object_; }
  T& operator*() const noexcept { return *object_; }
  T* operator->() const noexcept { return object_; }

 private:
  mapping map_;
  T* object_;
};

}  // namespace ipcbench
