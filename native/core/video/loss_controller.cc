#include "core/video/loss_controller.h"

#include <algorithm>

namespace sw::video {

void LossController::OnPacket(int64_t seq, int64_t now_ms) {
  if (!has_highest_) {
    has_highest_ = true;
    highest_ = seq;
    return;
  }
  if (seq <= highest_) {
    // Reordered or retransmitted: no longer missing.
    if (missing_.erase(seq) > 0) ++stats_.recovered;
    return;
  }
  const int64_t gap = seq - highest_ - 1;
  highest_ = seq;
  if (gap == 0 || !o_.nack) return;
  if (static_cast<uint64_t>(gap) + missing_.size() > o_.max_nack_list) {
    // Too much to retransmit: start over from a keyframe.
    missing_.clear();
    RequestKeyframe();
    return;
  }
  for (int64_t s = seq - gap; s < seq; ++s) missing_.emplace(s, Missing{now_ms, 0});
}

void LossController::RequestKeyframe() { pli_pending_ = true; }

void LossController::Forget(int64_t seq) { missing_.erase(missing_.begin(), missing_.upper_bound(seq)); }

void LossController::Reset() {
  missing_.clear();
  has_highest_ = false;
  highest_ = 0;
}

bool LossController::Poll(int64_t now_ms, std::vector<uint16_t>* nacks, bool* pli) {
  nacks->clear();
  *pli = false;
  for (auto it = missing_.begin(); it != missing_.end();) {
    Missing& m = it->second;
    if (m.next_send_ms > now_ms) {
      ++it;
      continue;
    }
    if (m.retries >= o_.max_nack_retries) {
      ++stats_.nack_give_ups;
      it = missing_.erase(it);
      continue;
    }
    nacks->push_back(static_cast<uint16_t>(it->first & 0xFFFF));
    ++m.retries;
    m.next_send_ms = now_ms + o_.nack_interval_ms;
    ++stats_.nacked;
    ++it;
  }
  if (pli_pending_ && (!has_last_pli_ || now_ms - last_pli_ms_ >= o_.pli_interval_ms)) {
    *pli = true;
    pli_pending_ = false;
    has_last_pli_ = true;
    last_pli_ms_ = now_ms;
    ++stats_.plis;
  }
  return *pli || !nacks->empty();
}

int64_t LossController::NextDeadlineMs() const {
  int64_t next = -1;
  for (const auto& [seq, m] : missing_) {
    (void)seq;
    next = next < 0 ? m.next_send_ms : std::min(next, m.next_send_ms);
  }
  if (pli_pending_) {
    const int64_t t = has_last_pli_ ? last_pli_ms_ + o_.pli_interval_ms : 0;
    next = next < 0 ? t : std::min(next, t);
  }
  return next;
}

}  // namespace sw::video
