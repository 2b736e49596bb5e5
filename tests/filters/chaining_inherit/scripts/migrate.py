from other import tool
from shop.admin import audit, users
from shop.cart import checkout

checkout(7, "SPRING")
users.delete("bob")
audit.record("alice", "cleanup")
tool.main()
