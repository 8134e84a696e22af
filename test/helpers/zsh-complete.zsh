# zsh -f zsh-complete.zsh COMPLETION_FILE OUT LINE...: types each LINE and a Tab into an interactive zsh (zpty)
# and appends the edit buffer after completion to OUT, one line per LINE (^O runs the widget that writes it)
zmodload zsh/zpty
comp=$1 out=$2; shift 2
drain() { local junk; sleep ${1:-0.3}; while zpty -r -t z junk; do [[ -n $DEBUG ]] && print -r -- "${(q)junk}"; done }
zpty -b z 'zsh -f -i'
zpty -w z "PS1='> '; autoload -Uz compinit; compinit -u -D; source ${(q)comp}"
drain 0.5
zpty -w z "dumpbuf() { print -r -- \"\$BUFFER\" >> ${(q)out}; BUFFER=; }; zle -N dumpbuf; bindkey '^O' dumpbuf"
drain
for line in "$@"; do
  zpty -w -n z "$line"$'\t'
  drain
  zpty -w -n z $'\x0f'
  drain
done
zpty -w z 'exit'
drain 0.1
zpty -d z
