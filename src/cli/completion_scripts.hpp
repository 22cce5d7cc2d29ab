// Shell scripts printed by `depctl completion bash|zsh|fish`.
#pragma once

namespace depctl::cli {

extern const char* const k_bash_completion;
extern const char* const k_zsh_completion;
extern const char* const k_fish_completion;

}  // namespace depctl::cli
