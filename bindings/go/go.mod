module tophat.local/core

go 1.19
