# fish completion for evctl.
# evctl itself says what may come next (`evctl __complete WORDS...`), so this
# file never needs a list of commands or options of its own.
function __evctl_complete
	set -l tokens (commandline -opc)
	$tokens[1] __complete $tokens[2..-1] 2>/dev/null
end
complete -c evctl -a '(__evctl_complete)'
