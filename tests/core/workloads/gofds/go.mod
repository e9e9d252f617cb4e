module gofds

go 1.19
