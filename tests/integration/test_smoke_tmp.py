def test_smoke(create_product, call_public, api_event, world):
    p = create_product()
    print(p)
    a = call_public(api_event("GET", "/products"))
    print(a)
    print(world.published())
