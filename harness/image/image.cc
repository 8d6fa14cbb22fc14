#include "image/image.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/fd.h"
#include "base/file_text.h"
#include "image/command.h"

namespace ovl::image {
namespace {

namespace stdfs = std::filesystem;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr minutes kMmdebstrapTimeout{30};
constexpr minutes kMkfsTimeout{10};
constexpr minutes kLockWait{40};  // longer than one whole build

std::string ImagesDir(const std::string& cache_dir) {
  return cache_dir + "/images";
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

uint64_t DiskUsage(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  return total;
}

// An exclusive flock on <images>/.lock, released on destruction.
class BuildLock {
 public:
  static Result<BuildLock> Take(const std::string& images_dir, std::ostream& log) {
    Fd fd(::open((images_dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd.valid()) return Status::FromErrno("open " + images_dir + "/.lock");
    const auto deadline = std::chrono::steady_clock::now() + kLockWait;
    bool told = false;
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) return Status::FromErrno("flock " + images_dir + "/.lock");
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status::Error(ETIMEDOUT, "another harness held the image build lock too long");
      }
      if (!told) log << "harness: waiting for another harness's image build\n" << std::flush;
      told = true;
      std::this_thread::sleep_for(seconds(1));
    }
    return BuildLock(std::move(fd));
  }

 private:
  explicit BuildLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;  // closing it releases the lock
};

Result<GuestImage> LoadImage(const std::string& dir) {
  std::ifstream in(dir + "/image.json");
  if (!in) return Status::Error(ENOENT, "no image.json in " + dir);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Error(EIO, "bad " + dir + "/image.json");
  GuestImage img;
  img.dir = dir;
  img.hash = j.value("hash", "");
  img.built = j.value("built", "");
  img.rootfs = dir + "/base.img";
  for (const auto& k : j.value("kernels", nlohmann::json::array())) {
    const std::string series = k.value("series", "");
    img.kernels.push_back(
        {series, k.value("release", ""), dir + "/vmlinuz-" + series, dir + "/initrd-" + series});
  }
  img.bytes = DiskUsage(dir);
  return img;
}

// The kernel release of `series` installed in `tree` (its /boot/vmlinuz-<release>).
Result<std::string> FindRelease(const std::string& tree, const std::string& series) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(tree + "/boot", ec)) {
    const std::string name = e.path().filename();
    const std::string prefix = "vmlinuz-" + series + ".";
    if (name.rfind(prefix, 0) == 0) found.push_back(name.substr(8));
  }
  if (found.empty()) {
    return Status::Error(ENOENT, "the built tree has no kernel of series " + series + " in /boot");
  }
  std::sort(found.begin(), found.end());
  return found.back();
}

Status Build(const Recipe& recipe, const std::string& final_dir, std::ostream& log) {
  const std::string partial = final_dir + ".partial";
  std::error_code ec;
  stdfs::remove_all(partial, ec);
  stdfs::create_directories(partial, ec);
  if (ec) return Status::Error(ec.value(), "create " + partial + ": " + ec.message());
  const std::string build_log = partial + "/build.log";
  const std::string tree = partial + "/tree";
  log << "harness: building guest image " << RecipeHash(recipe) << " with mmdebstrap ("
      << recipe.suite << ", kernels";
  for (const auto& k : recipe.kernels) log << " " << k;
  log << "); tool output in " << final_dir << "/build.log\n" << std::flush;
  const auto start = std::chrono::steady_clock::now();
  OVL_RETURN_IF_ERROR(RunCommand(MmdebstrapArgv(recipe, tree), build_log, kMmdebstrapTimeout));
  stdfs::remove(tree + "/sbin/ovl-init", ec);  // a new file, so that its mode is ours
  OVL_RETURN_IF_ERROR(WriteFileText(tree + "/sbin/ovl-init", recipe.init, 0755));
  nlohmann::json kernels = nlohmann::json::array();
  for (const auto& series : recipe.kernels) {
    OVL_ASSIGN_OR_RETURN(std::string release, FindRelease(tree, series));
    stdfs::copy_file(tree + "/boot/vmlinuz-" + release, partial + "/vmlinuz-" + series, ec);
    if (!ec)
      stdfs::copy_file(tree + "/boot/initrd.img-" + release, partial + "/initrd-" + series, ec);
    if (ec) return Status::Error(ec.value(), "copy kernel " + release + ": " + ec.message());
    kernels.push_back({{"series", series}, {"release", release}});
  }
  OVL_RETURN_IF_ERROR(MakeExt4(tree, partial + "/base.img", recipe.size, "ovl-root", build_log));
  stdfs::remove_all(tree, ec);
  OVL_RETURN_IF_ERROR(WriteFileText(partial + "/recipe.txt", RecipeText(recipe)));
  OVL_RETURN_IF_ERROR(WriteFileText(
      partial + "/image.json",
      nlohmann::json{{"hash", RecipeHash(recipe)}, {"built", UtcNow()}, {"kernels", kernels}}.dump(
          2) +
          "\n"));
  stdfs::remove_all(final_dir, ec);
  stdfs::rename(partial, final_dir, ec);
  if (ec) return Status::Error(ec.value(), "rename " + partial + ": " + ec.message());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log << "harness: guest image " << RecipeHash(recipe) << " built in " << static_cast<int>(secs)
      << " s\n"
      << std::flush;
  return Status::Ok();
}

}  // namespace

const KernelFiles* GuestImage::Kernel(const std::string& series) const {
  for (const auto& k : kernels) {
    if (k.series == series) return &k;
  }
  return nullptr;
}

Result<GuestImage> EnsureImage(const Recipe& recipe, const std::string& cache_dir, bool force,
                               std::ostream& log) {
  const std::string images = ImagesDir(cache_dir);
  std::error_code ec;
  stdfs::create_directories(images, ec);
  if (ec) return Status::Error(ec.value(), "create " + images + ": " + ec.message());
  const std::string dir = images + "/" + RecipeHash(recipe);
  if (!force) {
    auto img = LoadImage(dir);
    if (img.ok()) return img;
  }
  for (const char* tool : {"mmdebstrap", "mkfs.ext4"}) {
    if (!HaveTool(tool)) {
      return Status::Error(ENOENT, std::string(tool) +
                                       " not found: building the guest image needs it "
                                       "(scripts/install-deps installs it)");
    }
  }
  OVL_ASSIGN_OR_RETURN(BuildLock lock, BuildLock::Take(images, log));
  if (!force) {
    auto img = LoadImage(dir);  // built by another harness while we waited
    if (img.ok()) return img;
  }
  OVL_RETURN_IF_ERROR(Build(recipe, dir, log));
  return LoadImage(dir);
}

Result<std::vector<GuestImage>> ListImages(const std::string& cache_dir) {
  std::vector<GuestImage> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(ImagesDir(cache_dir), ec)) {
    if (!e.is_directory()) continue;
    auto img = LoadImage(e.path());
    if (img.ok()) out.push_back(std::move(*img));
  }
  std::sort(out.begin(), out.end(),
            [](const GuestImage& a, const GuestImage& b) { return a.built < b.built; });
  return out;
}

Result<int> RemoveImages(const std::string& cache_dir) {
  const std::string images = ImagesDir(cache_dir);
  std::error_code ec;
  if (!stdfs::exists(images, ec)) return 0;
  OVL_ASSIGN_OR_RETURN(BuildLock lock, BuildLock::Take(images, std::cerr));
  int removed = 0;
  for (const auto& e : stdfs::directory_iterator(images, ec)) {
    if (!e.is_directory()) continue;
    stdfs::remove_all(e.path(), ec);
    if (ec) return Status::Error(ec.value(), "remove " + e.path().string() + ": " + ec.message());
    ++removed;
  }
  return removed;
}

Status MakeExt4(const std::string& src_dir, const std::string& image, uint64_t size,
                const std::string& label, const std::string& log_path) {
  std::error_code ec;
  stdfs::remove(image, ec);
  // -E root_owner: the tree's root is owned by root whoever runs this.
  return RunCommand({"mkfs.ext4", "-q", "-F", "-L", label, "-E", "root_owner=0:0", "-d", src_dir,
                     image, std::to_string(size / 1024) + "k"},
                    log_path, kMkfsTimeout);
}

}  // namespace ovl::image
