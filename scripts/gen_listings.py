#!/usr/bin/env python3
"""Deterministic synthetic marketplace listings (Portuguese + Spanish) for Vigia.

Every row is invented. The generator is Python 3 standard library only, uses one fixed
seed and no set/dict-order-dependent randomness, so the output is byte-for-byte the same
on every run with the same Python 3 `random` implementation (stable since 3.2).

Usage:
    python3 scripts/gen_listings.py > data/listings.csv     # CSV to stdout, summary to stderr
    python3 scripts/gen_listings.py --check                 # regenerate in memory, compare with
                                                            # data/listings.csv; exit 1 if they differ
    python3 scripts/gen_listings.py --summary               # markdown counts only (for data/README.md)

Columns: id,site_id,title,category_id,price_usd,seller_age_days,seller_sales,
         seller_reputation,is_prohibited,family
"""
import csv
import io
import math
import os
import random
import re
import sys
import unicodedata

SEED = 20261123
N_ROWS = 24000
LABEL_NOISE = 0.01  # share of rows whose is_prohibited is flipped (family is left as generated)
MISCATEGORISED = 0.22  # share of prohibited rows listed in an unrelated innocent category
TITLE_MAX = 60  # Mercado Libre-style title limit; optional words are dropped to fit

COLUMNS = ["id", "site_id", "title", "category_id", "price_usd", "seller_age_days",
           "seller_sales", "seller_reputation", "is_prohibited", "family"]

# site, language, weight (MLB ~45 %)
SITES = [("MLB", "pt", 45), ("MLA", "es", 17), ("MLM", "es", 16), ("MCO", "es", 9),
         ("MLC", "es", 8), ("MLU", "es", 5)]

# Category domains: numeric ids shared by every site (the site prefix is added per row).
# Top-level ids follow Mercado Libre's public tree where known (1000 electronics, 1051 phones,
# 1648 computers, 1144 games, 1276 sports, 1430 fashion, 1574 home, 1499 industry, 1246
# beauty, 264586 health, 1071 animals, 1132 toys, 3937 jewellery/watches, 1747 vehicle
# accessories, 1196 books, 1367 antiques/collectibles, 263532 tools, 5726 appliances,
# 1953 other); the deeper leaf ids are invented.
DOMAINS = {
    "health": ["264586", "438474", "440181", "1246"],
    "pharmacy": ["264586", "438474", "455220"],
    "sports_nutrition": ["1276", "264586", "180913"],
    "medical_equipment": ["264586", "1499", "440183", "455221"],
    "weapons_like": ["1276", "263532", "1499", "1953", "1367"],
    "hunting_fishing": ["1276", "1168391", "1953"],
    "fashion": ["1430", "1276", "3937"],
    "watches_jewellery": ["3937", "1430"],
    "perfume": ["1246", "1271"],
    "tobacco_like": ["1953", "1246", "1000", "1574"],
    "animals": ["1071", "1953", "1574"],
    "collectibles": ["1367", "1574", "1953", "1132"],
    "electronics": ["1000", "1051", "1648", "1144"],
    "phones": ["1051", "3813"],
    "computers": ["1648", "1000"],
    "games": ["1144", "1132"],
    "home": ["1574", "5726", "436380"],
    "appliances": ["5726", "1574"],
    "tools": ["263532", "1499", "1500"],
    "toys": ["1132", "1384"],
    "sports": ["1276", "1292"],
    "auto": ["1747", "1743", "22693"],
    "books": ["1196", "1367"],
    "office": ["1499", "1953", "1430"],
    "beauty": ["1246", "1271"],
}
INNOCENT_DOMAINS = ["home", "toys", "electronics", "tools", "fashion", "sports", "collectibles",
                    "office", "beauty", "auto"]

REPUTATIONS = ["new", "bronze", "silver", "gold", "platinum"]

# ----------------------------------------------------------------------------- slot vocab
# A slot is {name} inside a template. Values are either a list (same in both languages) or a
# (pt list, es list) pair. Functions take (rng, lang).


def _nums(*xs):
    return [str(x) for x in xs]


SLOTS = {
    "cp": (["30 comprimidos", "cx 20 cp", "60 cps", "caixa c/ 30", "20 comp", "cartela 10",
            "30cp"], ["30 comprimidos", "caja x 20", "blister x10", "x 30 comp", "60 caps",
                      "caja x30"]),
    "caps": (["60 cápsulas", "120 caps", "90 cáps", "30 cápsulas", "180 caps"],
             ["60 cápsulas", "120 caps", "90 cápsulas", "x 60", "180 caps"]),
    "ml": _nums("5ml", "10ml", "30ml", "50ml", "60ml", "75ml", "90ml", "100ml", "120ml", "200ml"),
    "benzo": ["0,25mg", "0,5mg", "1mg", "2mg", "2,5mg/ml gotas"],
    "oral": ["5mg", "10mg", "20mg", "25mg", "30mg", "40mg", "50mg", "70mg"],
    "pain": ["30mg", "50mg", "100mg"],
    "abx": ["250mg", "500mg", "875mg"],
    "pde5": ["25mg", "50mg", "100mg"],
    "glp": ["2,5mg", "5mg", "7,5mg", "10mg", "15mg"],
    "inj": ["100mg", "200mg", "250mg", "300mg", "400mg"],
    "vit": ["250mg", "500mg", "1000mg", "1g"],
    "melo": ["0,21mg", "1mg", "3mg", "5mg", "10mg"],
    "nicmg": ["2mg", "4mg", "7mg", "14mg", "21mg"],
    "mgml": _nums("0,25mg", "0,5mg", "1mg", "1,7mg", "2,4mg"),
    "ui": _nums("1000", "2000", "5000", "7000", "10000", "50000"),
    "n": _nums(2, 3, 4, 5, 6, 8, 10, 12),
    "g": _nums(30, 50, 100, 150, 250, 300, 500),
    "kg": _nums(1, "1,5", 2, 3, 5, 7, 10, 15, "10,1", 20),
    "w": _nums(10, 20, 40, 60, 100, 350, 500, 650, 800, 1000, 1200, 1500, 2000),
    "cal": [".38", "9mm", ".40", ".380", "12", ".22", "5.56", "7.62", ".45", ".357", "cal 9"],
    "kv": _nums(1000, 5000, 30000, 50000, 98000),
    "cm": _nums(10, 15, 20, 25, 30, 40, 50, 60, 80, 100),
    "inch": _nums(6, 7, 8, 10, 12),
    "scale": _nums(18, 24, 32, 43, 64),
    "tv": _nums(32, 40, 43, 50, 55, 65, 75),
    "gb": ["32gb", "64gb", "128gb", "256gb", "512gb", "1tb"],
    "ram": ["4gb", "8gb", "16gb", "32gb"],
    "aro": _nums(12, 13, 14, 15, 16, 20, 24, 26, 29),
    "mah": _nums(5000, 10000, 20000, 30000),
    "mbps": _nums(300, 750, 1200, 1800, 3000),
    "dbi": _nums(7, 12, 14, 17, 20),
    "bands": _nums(4, 6, 8, 10, 12, 16),
    "puffs": _nums(1500, 2500, 3500, 5000, 6000, 8000, 10000, 15000),
    "mgnic": _nums(3, 6, 20, 35, 50),
    "ohm": ["0.15", "0.3", "0.4", "0.8", "1.2"],
    "bico": ["1.4", "1.5", "1.7", "2.0"],
    "m": ["1,50", "1,65", "1,80", "2,10", "2,40", "3,00"],
    "l": _nums(2, 3, 4, 5, 12, 20, 40, 60, 100),
    "fps": _nums(30, 50, 60, 70, 90),
    "oz": _nums(10, 12, 14, 16),
    "ah": _nums(45, 50, 60, 70, 90),
    "hp": _nums(662, 664, 667, 122, 901, 954, 2774),
    "size": (["P", "M", "G", "GG", "36", "38", "40", "42", "44"],
             ["S", "M", "L", "XL", "36", "38", "40", "42", "44"]),
    "shoe": _nums(34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44),
    "color": (["preto", "branco", "azul", "rosa", "vermelho", "cinza", "bege", "verde", "marrom",
               "nude"], ["negro", "blanco", "azul", "rosa", "rojo", "gris", "beige", "verde",
                         "marrón", "celeste"]),
    "material": (["couro", "couro sintético", "nylon", "tecido", "PU"],
                 ["cuero", "cuero ecológico", "nylon", "tela", "PU"]),
    "motif": (["floral", "astronauta", "time de futebol", "gatinho", "glitter", "mármore",
               "anime"], ["floral", "astronauta", "fútbol", "gatito", "glitter", "mármol",
                          "anime"]),
    "flavor": (["menta", "uva", "melancia", "morango ice", "blueberry", "manga", "tabaco"],
               ["menta", "uva", "sandía", "frutilla ice", "blueberry", "mango", "tabaco"]),
    "model": None,  # generated: letters + digits
    "phone": ["iPhone 11", "iPhone 13", "iPhone 14 Pro", "iPhone 15", "Galaxy A54", "Galaxy S23",
              "Galaxy A15", "Moto G84", "Moto E13", "Redmi Note 12", "Redmi Note 13",
              "Poco X6", "Moto G54", "Galaxy A05s"],
    "gunbrand": ["Taurus", "Glock", "CBC", "Rossi", "Beretta", "Bersa", "Smith Wesson", "Imbel",
                 "Boito", "Ruger", "Colt"],
    "toolbrand": ["Bosch", "Makita", "Vonder", "Black+Decker", "Stanley", "Wagner", "Tramontina",
                  "Dewalt", "Einhell", "Gamma", "Lotus", "Hammer", "Truper"],
    "knifebrand": ["Tramontina", "Victorinox", "Mundial", "Zwilling", "Wusthof", "Tramontina Plenus",
                   "Arcos", "Brinox"],
    "fishbrand": ["Marine Sports", "Shimano", "Daiwa", "Albatroz", "Abu Garcia", "Saint Plus",
                  "Penn"],
    "snk": ["Nike Air Max", "Nike Air Force", "Nike Dunk", "Adidas Yeezy", "Adidas Samba",
            "New Balance 550", "Air Jordan 1", "Asics Gel", "Vans Old Skool", "Mizuno Wave"],
    "watch": ["Rolex Submariner", "Rolex Datejust", "Rolex Daytona", "Omega Seamaster",
              "Tag Heuer", "Bvlgari", "Audemars Piguet", "Patek Philippe", "Cartier"],
    "bag": ["Louis Vuitton", "Gucci", "Prada", "Chanel", "Michael Kors", "Dior", "Balenciaga",
            "Lacoste", "Hermes", "Ralph Lauren", "Tommy Hilfiger"],
    "perf": ["Sauvage Dior", "212 VIP", "Bleu de Chanel", "One Million", "La Vie Est Belle",
             "Good Girl", "Invictus", "Acqua di Gio", "Malbec", "Carolina Herrera", "Eros Versace",
             "Boss Bottled", "Chanel N5", "Ferrari Black"],
    "sung": ["Ray-Ban Aviador", "Ray-Ban Wayfarer", "Oakley Juliet", "Oakley Holbrook",
             "Prada", "Chilli Beans"],
    "team": ["Flamengo", "Corinthians", "Palmeiras", "Boca Juniors", "River Plate", "Real Madrid",
             "Barcelona", "Seleção Brasileira", "Argentina AFA", "América MX", "Colo-Colo",
             "Nacional"],
    "ear": ["AirPods Pro 2", "AirPods 3", "Galaxy Buds", "JBL Tune", "Beats Studio"],
    "smartwatch": ["Apple Watch Series 9", "Apple Watch Ultra", "Galaxy Watch 6"],
    "vape": ["Ignite V50", "Ignite V80", "Elf Bar", "Lost Mary", "Oxbar", "Vaporesso",
             "Ignite V150", "Nikbar", "Geek Bar", "Black Sheep"],
    "cigbrand": ["Marlboro", "Lucky Strike", "Dunhill", "Camel", "Philip Morris", "Rothmans",
                 "Gudang Garam", "Eight"],
    "petfood": ["Golden", "Premier", "Pedigree", "Royal Canin", "Whiskas", "Quatree",
                "Pro Plan", "Dog Chow", "Guabi Natural", "Vitalcan", "Eukanuba"],
    "petbrand": ["Bravecto", "NexGard", "Simparic", "Seresto", "Frontline", "Credeli",
                 "Advocate"],
    "brand_sup": ["Growth", "Max Titanium", "Integralmedica", "Optimum Nutrition", "Star Nutrition",
                  "ENA", "Probiótica", "Black Skull", "Dux", "Essential"],
    "brand_med": ["Mindray", "GE", "Dräger", "Philips", "Takaoka", "Samtronic", "Lifemed"],
    "brand_steth": ["Littmann Classic III", "Littmann Cardiology IV", "Premium", "Spirit",
                    "Incoterm", "MDF"],
    "brand_bp": ["Omron", "G-Tech", "Multilaser", "Microlife", "Bioland"],
    "brand_gluc": ["Accu-Chek", "OneTouch", "FreeStyle", "G-Tech"],
    "brand_net": ["TP-Link", "Aquário", "Intelbras", "Mercusys", "Xiaomi", "Huawei",
                  "Tenda"],
    "brand_home": ["Mondial", "Arno", "Britânia", "Philco", "Electrolux", "Oster",
                   "Liliana", "Atma"],
    "tvbrand": ["Samsung", "LG", "TCL", "Philco", "Philips", "Hisense", "AOC", "Sony"],
    "nbbrand": ["Dell Inspiron", "Lenovo IdeaPad", "Acer Aspire", "Asus Vivobook",
                "Samsung Book", "HP 250", "MacBook Air M1"],
    "earbrand": ["JBL", "QCY", "Sony", "Edifier", "Samsung", "Xiaomi", "Lenovo"],
    "car": ["Gol G5", "Onix", "HB20", "Corolla", "Fiat Uno", "Palio", "Ka", "Hilux",
            "Civic", "Sandero", "Cruze", "Tracker", "Aveo", "Versa", "Sentra"],
    "plane": ["Boeing 737", "Airbus A320", "Embraer 190", "Concorde", "Spitfire"],
    "game": ["Super Mario World", "Donkey Kong Country", "Pokémon Red", "Zelda",
             "Top Gear", "Mortal Kombat 3", "Street Fighter II"],
    "booktitle": (["O Pequeno Príncipe", "Dom Casmurro", "Sapiens", "Pai Rico Pai Pobre",
                   "Harry Potter e a Pedra Filosofal", "O Hobbit", "Hábitos Atômicos",
                   "A Revolução dos Bichos", "Torto Arado", "É Assim que Acaba",
                   "Farmacologia Básica e Clínica", "Anatomia Humana Netter"],
                  ["El Principito", "Cien Años de Soledad", "Sapiens", "Padre Rico Padre Pobre",
                   "Harry Potter y la Piedra Filosofal", "El Hobbit", "Hábitos Atómicos",
                   "Rebelión en la Granja", "Rayuela", "Romper el Círculo",
                   "Farmacología Básica y Clínica", "Atlas de Anatomía Netter"]),
    "author": ["Antony Beevor", "Max Hastings", "Laurence Rees", "Ian Kershaw",
               "Winston Churchill", "Eric Hobsbawm"],
    "lego": ["Star Wars", "City", "Technic", "Friends", "Minecraft", "Harry Potter", "Ninjago"],
    "animal": (["unicórnio", "urso", "dinossauro", "arara", "onça", "tubarão", "coelho"],
               ["unicornio", "oso", "dinosaurio", "guacamaya", "jaguar", "tiburón", "conejo"]),
}

# ----------------------------------------------------------------------------- families
# Each family: name, kind (prohibited | hard_negative | benign), weight, category domains,
# and templates "pt | es | median price USD [| domain,domain]" (the optional last field
# replaces the family's domains for that template). Weights are relative within the kind.


def _templates(block):
    out = []
    for line in block.strip().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        pt, es, price = parts[:3]
        domains = parts[3].split(",") if len(parts) > 3 else None  # overrides the family's
        out.append((pt, es, float(price), domains))
    return out


PROHIBITED = [
    ("medicines", 22, ["pharmacy", "health"], _templates("""
        Rivotril {benzo} {cp} | Rivotril {benzo} {cp} | 15
        Clonazepam {benzo} {cp} | Clonazepam {benzo} {cp} | 12
        Alprazolam {benzo} caixa | Alprazolam {benzo} caja | 15
        Zolpidem {oral} remédio para dormir | Zolpidem {oral} para dormir | 20
        Diazepam {oral} {cp} | Diazepam {oral} {cp} | 10
        Ritalina {oral} metilfenidato | Ritalin {oral} metilfenidato | 35
        Venvanse {oral} {cp} | Vyvanse {oral} {cp} | 60
        Tramadol {pain} {cp} | Tramadol {pain} gotas | 15
        Amoxicilina {abx} antibiótico | Amoxicilina {abx} antibiótico | 8
        Azitromicina {abx} 5 comprimidos | Azitromicina {abx} 3 comprimidos | 8
        Roacutan isotretinoína {oral} | Isotretinoína {oral} {cp} | 40
        Sildenafil {pde5} genérico {cp} | Sildenafil {pde5} {cp} | 10
        Tadalafila {oral} {cp} | Tadalafil {oral} {cp} | 12
        Remédio para ansiedade tarja preta | Medicamento para ansiedad controlado | 25
        Remédio para dormir forte | Pastillas para dormir fuertes | 20
        Cytotec misoprostol 200mcg | Misoprostol 200mcg cytotec | 60
        Citotec original 4 comprimidos | Oxaprost misoprostol 4 pastillas | 70
        Remédio para descer menstruação atrasada | Pastillas para bajar la regla atrasada | 40
        Ozempic {mgml} caneta semaglutida | Ozempic pluma {mgml} semaglutida | 180
        Mounjaro tirzepatida {glp} | Mounjaro tirzepatida {glp} | 300
        Sibutramina {oral} {cp} | Sibutramina {oral} {cp} | 20
        Saxenda caneta liraglutida | Saxenda pluma liraglutida | 150
        Inibidor de apetite forte sibutramina | Inhibidor de apetito fuerte | 25
        Emagrecedor tarja preta resultado rapido | Pastillas para adelgazar controladas | 30
        Orlistat 120mg 84 cápsulas | Orlistat 120mg 84 cápsulas | 30
        Adesivo de nicotina {nicmg} Niquitin | Parches de nicotina {nicmg} Nicorette | 30
        Goma de mascar nicotina Nicorette {nicmg} | Chicle de nicotina Nicorette {nicmg} | 20
        Cetamina injetável uso veterinário {ml} | Ketamina inyectable uso veterinario {ml} | 45 | pharmacy,animals
        Tramadol veterinário gotas {ml} | Tramadol veterinario gotas {ml} | 15 | pharmacy,animals
        Acepromazina injetável veterinária | Acepromacina inyectable veterinaria | 25 | pharmacy,animals
        Xilazina 10% frasco {ml} | Xilacina 10% frasco {ml} | 20 | pharmacy,animals
        Insulina NPH caneta | Insulina glargina lapicera | 40
        Dipirona injetável ampola kit {n} | Diclofenac inyectable ampollas x{n} | 10
        Anticoncepcional injetável mensal | Anticonceptivo inyectable mensual | 12
        Pílula do dia seguinte | Pastilla del día después | 10
        Morfina {oral} ampola | Morfina {oral} ampolla | 30
        Codeína {pain} {cp} | Codeína {pain} {cp} | 18
        Fluoxetina {oral} {cp} | Fluoxetina {oral} {cp} | 10
        Vitamina B12 injetável ampola kit {n} | Vitamina B12 inyectable ampollas x{n} | 12
        Remédio controlado entrega sem receita | Medicamento controlado sin receta | 30
    """)),
    ("weapons", 18, ["weapons_like", "hunting_fishing", "sports"], _templates("""
        Pistola {gunbrand} {cal} semi nova | Pistola {gunbrand} {cal} usada | 700
        Pistola {gunbrand} G2C {cal} com 2 carregadores | Pistola {gunbrand} {cal} con 2 cargadores | 750
        Revólver {gunbrand} calibre 38 inox | Revólver {gunbrand} calibre 38 | 600
        Revólver {cal} cano longo | Revólver {cal} cañón largo | 550
        Espingarda calibre 12 {gunbrand} | Escopeta calibre 12 {gunbrand} | 800
        Espingarda pump 12 cano curto | Escopeta pump 12 cañón corto | 850
        Carabina {cal} {gunbrand} | Carabina {cal} {gunbrand} | 900
        Fuzil AR-15 {cal} | Fusil AR-15 {cal} | 2500
        Munição {cal} caixa {n}0 unidades | Munición {cal} caja x{n}0 | 50
        Munição {cal} ponta oca {gunbrand} | Munición {cal} punta hueca | 55
        Cartuchos calibre 12 caixa 25 | Cartuchos calibre 12 caja x25 | 35
        Carregador estendido pistola {cal} | Cargador extendido pistola {cal} | 60
        Carregador Glock 33 tiros | Cargador Glock 33 tiros | 70
        Carregador para fuzil 30 tiros | Cargador para fusil 30 tiros | 65
        Silenciador supressor {cal} rosca | Silenciador supresor {cal} rosca | 150
        Supressor de ruído para pistola {cal} | Supresor de ruido para pistola {cal} | 160
        Kit conversão rajada glock switch | Kit conversión ráfaga glock | 120
        Cano pistola {cal} {gunbrand} | Cañón pistola {cal} {gunbrand} | 200
        Ferrolho completo {gunbrand} | Corredera completa {gunbrand} | 250
        Coronha dobrável AK | Culata plegable AK | 90
        Gatilho para pistola {gunbrand} | Gatillo para pistola {gunbrand} | 60
        Soqueira soco inglês aço | Manopla puño americano acero | 15
        Soco inglês com lâmina | Puño americano con cuchilla | 25
        Arma de choque taser {kv} KV lanterna | Picana eléctrica taser {kv} KV linterna | 25
        Máquina de choque defesa pessoal | Táser defensa personal recargable | 25
        Spray de pimenta defesa pessoal | Gas pimienta defensa personal | 12
        Canivete automático mola | Navaja automática de resorte | 20
        Faca borboleta balisong | Navaja mariposa balisong | 18
        Faca balisong afiada treino | Balisong afilada | 20
        Bengala espada oculta | Bastón espada oculta | 60
        Simulacro pistola réplica metal realista | Réplica de pistola metálica realista | 40
        Réplica de revólver metal igual verdadeiro | Réplica revólver metal igual a real | 45
        Pólvora para recarga {n}00g | Pólvora para recarga {n}00g | 40
        Espoletas para recarga caixa | Fulminantes para recarga caja | 30
        Estojos calibre {cal} para recarga | Vainas calibre {cal} para recarga | 20
    """)),
    ("counterfeit", 16, ["fashion", "watches_jewellery", "perfume", "electronics"], _templates("""
        Tênis {snk} réplica primeira linha | Zapatillas {snk} réplica AAA | 45 | fashion
        Tênis {snk} importado igual original | Zapatillas {snk} igual a original | 30 | fashion
        Tênis {snk} linha premium 1:1 | Zapatillas {snk} calidad 1:1 | 40 | fashion
        Relógio {watch} réplica AAA | Reloj {watch} réplica AAA | 60 | watches_jewellery
        Relógio {watch} automático clone | Reloj {watch} clon automático | 80 | watches_jewellery
        Relógio {watch} primeira linha | Reloj {watch} primera línea | 70 | watches_jewellery
        Bolsa {bag} réplica primeira linha | Cartera {bag} réplica AAA | 50 | fashion
        Bolsa inspired {bag} igual original | Cartera inspirada {bag} igual a original | 35 | fashion
        Bolsa {bag} espelhada | Bolso {bag} calidad espejo | 60 | fashion
        Carteira {bag} réplica masculina | Billetera {bag} réplica | 20 | fashion
        Cinto {bag} réplica fivela | Cinturón {bag} réplica hebilla | 20 | fashion
        Camiseta {bag} réplica | Remera {bag} réplica | 18 | fashion
        Perfume {perf} contratipo importado | Perfume {perf} alternativo réplica | 15 | perfume
        Perfume {perf} {ml} paralelo | Perfume {perf} {ml} réplica | 12 | perfume
        Perfume {perf} primeira linha sem caixa | Perfume {perf} símil sin caja | 14 | perfume
        Óculos {sung} réplica com case | Lentes {sung} réplica con estuche | 20 | fashion
        Camisa {team} tailandesa 1:1 | Camiseta {team} réplica tailandesa | 25 | fashion
        Camisa {team} réplica torcedor | Camiseta {team} réplica | 22 | fashion
        Fone {ear} primeira linha | Auriculares {ear} clon 1:1 | 20 | electronics
        {smartwatch} réplica primeira linha | {smartwatch} réplica 1:1 | 30 | electronics
        {ear} réplica 1:1 com caixa | {ear} réplica 1:1 con caja | 25 | electronics
        Boné {bag} réplica | Gorra {bag} réplica | 12 | fashion
        Capinha {phone} {bag} monograma inspired | Funda {phone} {bag} monograma símil | 9 | phones
        Estetoscópio {brand_steth} réplica primeira linha | Estetoscopio {brand_steth} réplica AAA | 20 | health
    """)),
    ("tobacco_vapes", 11, ["tobacco_like", "electronics"], _templates("""
        Vape descartável {vape} {puffs} puffs | Vape descartable {vape} {puffs} puffs | 15
        Pod descartável {vape} {puffs} puffs sabor {flavor} | Pod descartable {vape} {puffs} puffs sabor {flavor} | 15
        Pod {vape} {puffs} puffs | Pod {vape} {puffs} puffs | 14
        Cigarro eletrônico recarregável kit | Cigarrillo electrónico recargable kit | 35
        Juice nic salt {mgnic}mg {ml} | Líquido sales de nicotina {mgnic}mg {ml} | 12
        Essência para vape {flavor} {ml} | Esencia para vape {flavor} {ml} | 8
        Refil pod {vape} com nicotina | Cartucho pod {vape} con nicotina | 10
        Cigarro {cigbrand} pacote 10 maços | Cigarrillos {cigbrand} cartón 10 atados | 40 | tobacco_like
        Cigarro {cigbrand} importado paraguai | Cigarrillos {cigbrand} importados | 30 | tobacco_like
        Fumo de rolo goiano {g}g | Tabaco para armar {g}g | 10 | tobacco_like
        Tabaco para cachimbo {g}g | Tabaco para pipa {g}g | 15 | tobacco_like
        Charuto cubano caixa {n} | Habanos cubanos caja x{n} | 80 | tobacco_like
        Cigarro de palha {n} maços | Cigarrillos de chala x{n} | 12 | tobacco_like
        Essência de narguilé {flavor} {g}g | Tabaco para narguile {g}g sabor {flavor} | 6 | tobacco_like
        Resistência coil vape {ohm} ohm | Resistencia coil vape {ohm} ohm | 8
        Tabaco aquecido Heets maço | Heets tabaco calentado atado | 8 | tobacco_like
        Vaporizador pod system {vape} | Vaporizador pod {vape} | 30
    """)),
    ("steroids", 8, ["sports_nutrition", "pharmacy", "sports"], _templates("""
        Durateston {ml} ampola | Sustanon 250 ampolla | 25
        Deca Durabolin {inj} | Deca Durabolin {inj} ampolla | 30
        Testosterona cipionato {inj}/ml | Cipionato de testosterona {inj}/ml | 40
        Testosterona enantato {ml} | Enantato de testosterona {ml} | 40
        Oxandrolona {oral} {cp} | Oxandrolona {oral} {cp} | 45
        Stanozolol winstrol {oral} | Winstrol stanozolol {oral} {cp} | 35
        Trembolona acetato {inj} | Trembolona acetato {inj} | 50
        Hemogenin 50mg oximetolona | Oximetolona anadrol 50mg | 40
        Dianabol metandrostenolona {oral} | Dianabol {oral} {cp} | 30
        GH somatropina {ui} UI | Hormona de crecimiento somatropina {ui} UI | 200
        Ostarine SARM MK-2866 {oral} | Ostarina SARM {oral} 60 caps | 50
        Boldenona equipoise {ml} | Boldenona {ml} ampolla | 35
        Kit ciclo bomba para ganhar massa | Ciclo completo para volumen kit | 120
        Clembuterol 40mcg {cp} | Clenbuterol 40mcg {cp} | 25
        Anabolizante injetável {ml} | Anabólico inyectable {ml} | 40
        Primobolan {inj} | Primobolan depot {inj} | 60
        Testosterona gel 50mg bisnaga | Testosterona gel 50mg sachet | 35
    """)),
    ("wildlife", 8, ["animals", "collectibles"], _templates("""
        Filhote de papagaio verdadeiro falante | Loro hablador pichón | 300
        Arara azul filhote | Guacamaya bebé | 1500
        Sagui mico estrela filhote | Mono tití bebé | 400
        Filhote de tucano | Tucán pichón | 600
        Jabuti piranga filhote | Tortuga terrestre bebé | 80
        Iguana verde filhote | Iguana verde bebé | 60
        Cobra píton albina viva | Serpiente pitón albina viva | 300
        Tartaruga tigre d'água filhote | Tortuga de orejas rojas bebé | 15
        Ouriço pigmeu africano | Erizo de tierra africano | 150
        Pássaro trinca-ferro cantador | Cardenal amarillo cantor | 120
        Curió fibra mansinho | Jilguero cantor macho | 200
        Filhote de jaguatirica | Gato montés cachorro | 800
        Tarântula caranguejeira viva | Tarántula viva | 40
        Escultura de marfim legítimo | Figura de marfil auténtico | 500
        Dente de marfim de elefante | Colmillo de marfil | 800
        Casco de tartaruga de pente | Caparazón de tortuga carey | 150
        Pele de onça pintada | Piel de jaguar auténtica | 600
        Penas de arara naturais {n} un | Plumas de guacamaya naturales x{n} | 20
        Cavalo-marinho seco | Caballito de mar seco | 15
        Coral vermelho natural bruto | Coral rojo natural en bruto | 40
        Chifre de rinoceronte | Cuerno de rinoceronte | 900
    """)),
    ("documents", 6, ["office", "books", "collectibles"], _templates("""
        CNH verdadeira sem autoescola | Licencia de conducir sin examen | 300
        Carteira de motorista registrada no Detran | Licencia de conducir registrada | 350
        RG novo com dados alterados | DNI nuevo con datos a elección | 200
        Diploma de ensino superior registrado MEC | Título universitario registrado | 400
        Diploma ensino médio com histórico | Título secundario con analítico | 250
        Certificado de curso técnico registrado | Certificado de estudios apostillado | 150
        Atestado médico com CID e carimbo | Certificado médico con sello y firma | 20
        Receita médica azul carimbada | Receta médica en blanco firmada | 30
        Nota fiscal para comprovação de renda | Factura A para deducir gastos | 40
        Comprovante de residência editável | Constancia de domicilio editable | 15
        Passaporte documento novo | Pasaporte documento nuevo | 800
        Holerite contracheque personalizado | Recibo de sueldo personalizado | 20
        Carteirinha de vacinação preenchida | Carnet de vacunación completo | 25
        CRLV documento de veículo | Cédula verde para auto | 120
    """)),
    ("medical_equipment", 6, ["medical_equipment", "health"], _templates("""
        Aparelho de raio x odontológico portátil | Equipo de rayos x odontológico portátil | 2500
        Raio x portátil veterinário digital | Rayos x portátil veterinario | 6000
        Tubo de raio x ampola | Tubo de rayos x | 1500
        Sensor radiográfico digital RVG | Sensor radiográfico digital RVG | 1800
        Arco cirúrgico em C | Arco en C quirúrgico | 25000
        Aparelho de anestesia {brand_med} | Máquina de anestesia {brand_med} | 9000
        Vaporizador de anestesia sevoflurano | Vaporizador anestésico sevoflurano | 2500
        Ventilador pulmonar mecânico UTI | Respirador ventilador mecánico UTI | 7000
        Bomba de infusão {brand_med} | Bomba de infusión {brand_med} | 1200
        DIU de cobre com aplicador | DIU de cobre T380 | 30
        DIU Mirena hormonal | DIU Mirena hormonal | 200
        Bisturi elétrico eletrocautério {w}W | Electrobisturí {w}W | 1500
        Desfibrilador bifásico hospitalar | Desfibrilador bifásico hospitalario | 4000
        Ultrassom portátil com transdutor | Ecógrafo portátil con transductor | 4500
        Aparelho de hemodiálise | Máquina de hemodiálisis | 12000
        Laser CO2 fracionado estético | Láser CO2 fraccionado | 8000
        Monitor multiparamétrico {brand_med} | Monitor multiparamétrico {brand_med} | 1500
    """)),
    ("signal_jammers", 5, ["electronics", "auto"], _templates("""
        Bloqueador de sinal celular {bands} bandas | Bloqueador de señal celular {bands} bandas | 150
        Jammer GPS veicular anti rastreador | Jammer GPS inhibidor para camión | 40 | auto,electronics
        Inibidor de sinal de celular portátil | Inhibidor de señal portátil | 120
        Bloqueador de drone antidrone | Inhibidor de drones | 900
        Jammer wifi bluetooth 2.4ghz | Inhibidor wifi 2.4ghz | 80
        Bloqueador de rastreador GPS isqueiro 12v | Bloqueador GPS encendedor 12v | 25 | auto
        Bloqueador de sinal 4G 5G {bands} antenas | Inhibidor 4G 5G {bands} antenas | 400
        Jammer para sala de prova concurso | Bloqueador celular para exámenes | 200
        Embaralhador de sinal GSM | Inhibidor GSM 3G 4G | 100
    """)),
]

HARD_NEGATIVES = [
    ("glue_guns", 6, ["tools", "office"], _templates("""
        Pistola de cola quente {w}W {toolbrand} | Pistola de silicona caliente {w}W {toolbrand} | 10
        Pistola cola quente grande + {n}0 bastões | Pistola de silicona grande + {n}0 barras | 12
        Pistola aplicadora de silicone | Pistola aplicadora de sellador silicona | 8
        Refil bastão de cola quente grosso {n} un | Barras de silicona gruesa x{n} | 6
        Mini pistola cola quente artesanato | Mini pistola encoladora manualidades | 7
        Pistola de cola quente sem fio bateria | Pistola de silicona inalámbrica | 25
    """)),
    ("paint_spray_guns", 5, ["tools"], _templates("""
        Pistola de pintura elétrica {w}W {toolbrand} | Pistola de pintar eléctrica {w}W {toolbrand} | 45
        Pistola de pintura HVLP bico {bico}mm | Pistola pintura HVLP pico {bico}mm | 40
        Pistola de pintura gravidade para compressor | Pistola de pintar gravedad para compresor | 25
        Pistola para pintura airless | Pistola airless para pintura | 60
        Aerógrafo kit compressor | Aerógrafo kit compresor | 70
        Pistola de ar para compressor limpeza | Pistola sopladora para compresor | 8
        Pistola de pintura tanque inferior {toolbrand} | Pistola pintura tanque inferior {toolbrand} | 22
    """)),
    ("tool_guns", 5, ["tools", "beauty", "sports"], _templates("""
        Pistola de ar quente soprador térmico {w}W | Pistola de calor decapadora {w}W | 30 | tools
        Pistola massageadora muscular {n} cabeças | Pistola masajeadora muscular {n} cabezales | 40 | sports,beauty
        Pistola para lavadora de alta pressão | Pistola para hidrolavadora | 15 | tools
        Pistola de pregos pneumática | Clavadora neumática pistola | 80 | tools
        Pistola de solda estanho {w}W | Pistola de soldar estaño {w}W | 15 | tools
        Pistola de espuma expansiva | Pistola para espuma poliuretano | 15 | tools
        Pistola de rebite rebitadeira | Remachadora pistola | 12 | tools
        Pistola para graxa engraxadeira | Pistola engrasadora | 20 | tools
        Pistola de mangueira jardim {n} jatos | Pistola para manguera de jardín {n} funciones | 8 | home,tools
    """)),
    ("toy_guns", 5, ["toys"], _templates("""
        Pistola de água infantil {n}00ml | Pistola de agua infantil {n}00ml | 8
        Lançador Nerf Elite {model} | Lanzador Nerf Elite {model} | 30
        Pistola de bolhas de sabão | Pistola de burbujas | 8
        Arminha de brinquedo lança dardos | Pistolita de juguete lanza dardos | 7
        Pistola de água elétrica automática | Pistola de agua eléctrica automática | 20
        Pistola laser tag kit 2 jogadores | Pistolas laser tag x2 | 35
        Revólver de espoleta brinquedo colorido | Revólver de cebita juguete colorido | 6
        Espada de brinquedo pirata | Espada de juguete pirata | 8
    """)),
    ("kitchen_knives", 6, ["home"], _templates("""
        Faca do chef {inch} polegadas {knifebrand} | Cuchillo de chef {inch} pulgadas {knifebrand} | 25
        Jogo de facas {knifebrand} {n} peças | Juego de cuchillos {knifebrand} {n} piezas | 35
        Faca de pão serrilhada | Cuchillo panero serrucho | 10
        Faca para churrasco {knifebrand} kit {n} | Cuchillo asador {knifebrand} | 15
        Faca santoku aço inox | Cuchillo santoku acero inoxidable | 20
        Canivete suíço {knifebrand} multiuso | Navaja suiza {knifebrand} multiuso | 35
        Afiador de facas | Afilador de cuchillos | 8
        Faca de desossar {inch} | Cuchillo deshuesador {inch} | 12
        Cutelo machadinha cozinha | Cuchilla de carnicero | 18
        Faca campeira gaúcha com bainha | Cuchillo criollo con vaina de cuero | 30
    """)),
    ("original_perfume", 5, ["perfume"], _templates("""
        Perfume {perf} {ml} original lacrado | Perfume {perf} {ml} original sellado | 80
        {perf} Eau de Parfum {ml} 100% original | {perf} Eau de Parfum {ml} original | 90
        Perfume {perf} {ml} com nota fiscal | Perfume {perf} {ml} con factura | 85
        Kit perfume {perf} + loção | Set perfume {perf} + loción | 100
        Decant {perf} 5ml original | Decant {perf} 5ml original | 10
        Perfume {perf} {ml} tester original | Perfume {perf} {ml} tester original | 60
    """)),
    ("original_fashion", 4, ["fashion", "watches_jewellery"], _templates("""
        Tênis {snk} original com nota fiscal | Zapatillas {snk} originales con factura | 90
        Tênis {snk} original {shoe} | Zapatillas {snk} originales {shoe} | 85
        Relógio {watch} usado com certificado | Reloj {watch} usado con certificado | 4000 | watches_jewellery
        Bolsa {bag} original com dust bag | Cartera {bag} original con dust bag | 600 | fashion
        Óculos {sung} original com nota | Lentes {sung} originales con factura | 110
        Camisa {team} oficial 2024 | Camiseta {team} oficial 2024 | 60 | fashion
    """)),
    ("medical_consumer", 6, ["health", "medical_equipment"], _templates("""
        Estetoscópio {brand_steth} | Estetoscopio {brand_steth} | 60
        Estetoscópio duplo adulto {color} | Estetoscopio doble campana {color} | 25
        Aparelho de pressão digital de braço {brand_bp} | Tensiómetro digital de brazo {brand_bp} | 35
        Aparelho de pressão digital de pulso | Tensiómetro digital de muñeca | 20
        Esfigmomanômetro aneroide com estetoscópio | Tensiómetro aneroide con estetoscopio | 25
        Termômetro digital infravermelho | Termómetro digital infrarrojo | 15
        Oxímetro de dedo | Oxímetro de pulso | 15
        Nebulizador inalador ultrassônico | Nebulizador ultrasónico | 35
        Glicosímetro {brand_gluc} + 50 tiras | Glucómetro {brand_gluc} + 50 tiras | 25
        Cadeira de rodas dobrável | Silla de ruedas plegable | 180 | health
        Muleta axilar par | Muletas axilares par | 30
        Kit primeiros socorros | Botiquín primeros auxilios | 15
        Jaleco branco {size} | Ambo médico {size} | 25 | fashion,health
        Balança digital corporal bioimpedância | Balanza digital bioimpedancia | 25
        Lanterna clínica pupilar | Linterna médica pupilar | 8
        Máscara de nebulização infantil | Máscara para nebulizar infantil | 6
        Avental de chumbo para raio x | Delantal plomado para rayos x | 90
    """)),
    ("vitamins_supplements", 8, ["sports_nutrition", "health"], _templates("""
        Vitamina D3 {ui} UI {caps} | Vitamina D3 {ui} UI {caps} | 12
        Vitamina C {vit} {caps} | Vitamina C {vit} {caps} | 8
        Ômega 3 {vit} {caps} | Omega 3 {vit} {caps} | 15
        Whey Protein {brand_sup} {kg}kg | Proteína whey {brand_sup} {kg}kg | 35
        Creatina monohidratada {g}g {brand_sup} | Creatina monohidrato {g}g {brand_sup} | 25
        Colágeno hidrolisado {g}g | Colágeno hidrolizado {g}g | 20
        Multivitamínico A-Z {caps} | Multivitamínico {caps} | 12
        Melatonina {melo} {caps} | Melatonina {melo} {caps} | 10
        Tribulus terrestris {vit} testosterona natural | Tribulus terrestris {vit} testosterona natural | 18
        Termogênico {brand_sup} {caps} | Quemador de grasa termogénico {caps} | 20
        Porta comprimidos semanal 7 dias | Pastillero semanal 7 días | 6
        Caixa organizadora de remédios | Organizador de medicamentos | 8
        Pré-treino {brand_sup} {g}g | Pre entreno {brand_sup} {g}g | 25
        BCAA {g}g {brand_sup} | BCAA {g}g {brand_sup} | 18
        Magnésio dimalato {caps} | Magnesio citrato {caps} | 10
        Chá verde emagrecedor natural {caps} | Té verde natural {caps} | 8
        Biotina {melo} cabelo e unhas | Biotina {melo} cabello y uñas | 10
        Ferro quelato {caps} | Hierro quelado {caps} | 8
        Hipercalórico {brand_sup} {kg}kg massa | Ganador de peso {brand_sup} {kg}kg | 30
    """)),
    ("books_weapons_wars", 4, ["books"], _templates("""
        Livro Armas de Fogo história ilustrada | Libro Armas de Fuego historia ilustrada | 20
        Livro Segunda Guerra Mundial {author} | Libro Segunda Guerra Mundial {author} | 15
        Livro A Arte da Guerra Sun Tzu | Libro El Arte de la Guerra Sun Tzu | 8
        Livro Estatuto do Desarmamento comentado | Libro Ley de Armas comentada | 25
        Revista Magnum armas e munições edição {n} | Revista Armas y Municiones nro {n} | 6
        Livro manual de tiro esportivo | Libro manual de tiro deportivo | 18
        Livro Narcos a história do cartel | Libro Narcos historia del cartel | 15
        Livro Guerra do Vietnã fotos | Libro Guerra de Vietnam fotos | 20
        Livro Stalingrado {author} | Libro Stalingrado {author} | 18
        Enciclopédia de armas brancas e facas | Enciclopedia de armas blancas y cuchillos | 30
    """)),
    ("pet_supplies", 8, ["animals"], _templates("""
        Ração {petfood} {kg}kg cães adultos | Alimento {petfood} {kg}kg perros adultos | 35
        Ração {petfood} gatos castrados {kg}kg | Alimento {petfood} gatos castrados {kg}kg | 30
        Ração para papagaio {kg}kg | Alimento para loros {kg}kg | 12
        Ração para calopsita mistura sementes | Alimento para cotorras mezcla semillas | 8
        Gaiola para calopsita {cm}cm | Jaula para aves {cm}cm | 40
        Viveiro para pássaros grande | Pajarera grande | 60
        Terrário para jabuti e tartaruga | Terrario para tortugas | 30
        Aquário {l} litros completo | Acuario {l} litros completo | 70
        Coleira antipulgas {petbrand} | Collar antipulgas {petbrand} | 25
        Remédio antipulgas para cachorro {petbrand} | Antipulgas para perros {petbrand} | 30
        {petbrand} antipulgas e carrapatos cães | {petbrand} antipulgas y garrapatas perros | 30
        Vermífugo para cães e gatos {n} comprimidos | Antiparasitario perros y gatos x{n} comprimidos | 10
        Shampoo veterinário para cães | Shampoo para perros | 8
        Arranhador para gatos | Rascador para gatos | 25
        Caminha pet {size} | Cama para perro {size} | 25
        Areia para gatos {kg}kg | Piedras sanitarias {kg}kg | 10
        Petisco para cães | Snacks para perros | 5
        Bebedouro fonte para gatos | Fuente de agua para gatos | 20
        Guia e peitoral para cachorro | Pretal con correa para perro | 10
        Poleiro para papagaio | Percha para loro | 10
        Lâmpada UVB para répteis | Lámpara UVB para reptiles | 15
        Suplemento vitamínico para aves | Vitaminas para aves | 6
    """)),
    ("phone_cases", 6, ["phones"], _templates("""
        Capinha {phone} anti impacto | Funda {phone} antigolpes | 6
        Capa {phone} transparente + película | Funda {phone} transparente + vidrio templado | 8
        Capinha {phone} estampa {motif} | Funda {phone} diseño {motif} | 7
        Película de vidro 3D {phone} | Vidrio templado 9D {phone} | 4
        Capa carteira {phone} flip couro | Funda billetera {phone} flip cuero | 10
        Capinha silicone aveludada {phone} {color} | Funda silicona {phone} {color} | 6
    """)),
    ("document_holders", 5, ["office", "fashion"], _templates("""
        Porta documentos {material} {color} | Porta documentos {material} {color} | 10 | fashion,office
        Capa para CNH e RG | Funda para licencia de conducir | 5 | fashion,office
        Carteira masculina couro porta cartão | Billetera hombre cuero tarjetero | 20 | fashion
        Carteira feminina {color} | Billetera mujer {color} | 18 | fashion
        Porta passaporte viagem RFID | Porta pasaporte viaje RFID | 12 | fashion
        Moldura para diploma A4 | Marco para título A4 | 15 | home,office
        Pasta sanfonada para documentos | Carpeta acordeón para documentos | 10 | office
        Apostila CNH simulado prova Detran | Manual para examen de manejo | 10 | books
        Porta crachá com cordão | Porta credencial con cinta | 4 | office
        Porta documentos de carro | Porta documentos para auto | 6 | auto
    """)),
    ("signal_boosters", 5, ["electronics", "computers"], _templates("""
        Repetidor de sinal celular 4G {brand_net} | Repetidor de señal celular 4G {brand_net} | 80
        Amplificador de sinal celular rural com antena | Amplificador de señal celular rural con antena | 120
        Repetidor wifi {mbps}Mbps {brand_net} | Repetidor wifi {mbps}Mbps {brand_net} | 20
        Antena externa 4G alto ganho {dbi}dBi | Antena exterior 4G alto alcance {dbi}dBi | 30
        Roteador mesh kit {n} {brand_net} | Router mesh kit x{n} {brand_net} | 90
        Antena digital interna HDTV | Antena digital interior HDTV | 12
        Amplificador de sinal de TV | Amplificador de señal de TV | 15
        Rastreador GPS veicular {model} | Rastreador GPS para auto {model} | 30
        Localizador bluetooth tag | Localizador bluetooth tag | 12
    """)),
    ("decorative_replicas", 4, ["collectibles", "home"], _templates("""
        Réplica Torre Eiffel decorativa {cm}cm | Réplica Torre Eiffel decorativa {cm}cm | 15
        Réplica miniatura {car} escala 1:{scale} | Réplica auto a escala 1:{scale} {car} | 25 | collectibles,toys
        Réplica de fóssil dente de T-Rex resina | Réplica fósil diente T-Rex resina | 18
        Réplica estátua Cristo Redentor {cm}cm | Réplica estatua Cristo Redentor {cm}cm | 20
        Réplica avião {plane} metal | Réplica avión {plane} metal | 30
        Réplica crânio humano anatômico | Réplica cráneo humano anatómico | 25
        Réplica capacete Star Wars colecionável | Réplica casco Star Wars coleccionable | 90 | collectibles,toys
        Réplica taça Copa do Mundo {cm}cm | Réplica copa del mundo {cm}cm | 25
        Réplica navio pirata em madeira | Réplica barco pirata de madera | 40
    """)),
    ("fishing_gear", 5, ["hunting_fishing", "sports"], _templates("""
        Vara de pesca {m}m + molinete | Caña de pescar {m}m + reel | 40
        Carretilha {fishbrand} {model} | Reel rotativo {fishbrand} {model} | 60
        Kit anzol {n}0 peças | Kit anzuelos x{n}0 | 8
        Isca artificial kit {n} | Señuelos kit x{n} | 12
        Linha multifilamento {n}00m | Multifilamento {n}00m | 15
        Arbalete pesca sub {cm}cm | Arpón pesca submarina {cm}cm | 60
        Chumbada pesca kit {n} | Plomadas de pesca kit x{n} | 6
        Caixa de pesca organizadora | Caja de pesca organizadora | 20
        Puçá rede de pesca | Copo red de pesca | 12
        Alicate de pesca contenção | Pinza de pesca | 10
    """)),
    ("chargers_cartridges", 5, ["electronics", "computers", "games", "auto"], _templates("""
        Cartucho de tinta HP {hp} preto | Cartucho HP {hp} negro original | 20 | computers
        Cartucho de tinta Canon PG-{n}5 | Cartucho Canon PG-{n}5 | 22 | computers
        Cartucho de gás camping {g}g | Cartucho de gas camping {g}g | 6 | sports
        Cartucho Super Nintendo {game} | Cartucho Super Nintendo {game} | 30 | games
        Cartucho Game Boy {game} | Cartucho Game Boy {game} | 25 | games
        Carregador de celular turbo {w}W USB-C | Cargador de celular rápido {w}W USB-C | 10 | phones
        Carregador de bateria automotiva | Cargador de batería para auto | 40 | auto
        Carregador portátil power bank {mah}mAh | Cargador portátil power bank {mah}mAh | 20 | phones,electronics
        Carregador de pilhas AA AAA | Cargador de pilas AA AAA | 12 | electronics
        Refil cartucho filtro purificador de água | Cartucho filtro purificador de agua | 15 | home
        Carregador notebook {nbbrand} | Cargador notebook {nbbrand} | 18 | computers
    """)),
    ("lookalike_words", 8, ["home", "appliances", "beauty", "auto", "toys", "fashion"], _templates("""
        Vaporizador de roupas portátil {w}W | Vaporizador de ropa portátil {w}W | 25 | appliances
        Difusor de aromas ultrassônico + essência | Difusor de aromas ultrasónico + esencia | 15 | home
        Essência para aromatizador {ml} | Esencia para hornito aromatizador {ml} | 5 | home
        Isqueiro Zippo original | Encendedor Zippo original | 30 | collectibles,tobacco_like
        Cinzeiro de vidro decorativo | Cenicero de vidrio | 8 | home,tobacco_like
        Ventilador de mesa {cm}cm {brand_home} | Ventilador de pie {cm}cm {brand_home} | 30 | appliances
        Ventilador de teto {n} pás | Ventilador de techo {n} aspas | 60 | appliances,home
        Bloqueador solar FPS {fps} {ml} | Bloqueador solar FPS {fps} {ml} | 12 | beauty
        Veda porta bloqueador de vento | Burlete bloqueador de aire para puerta | 8 | home
        Bloqueador veicular antifurto | Corta corriente antirrobo para auto | 40 | auto
        Silenciador escapamento {car} | Silenciador de escape {car} | 40 | auto
        Carrinho Relâmpago McQueen | Auto Rayo McQueen juguete | 15 | toys
        Lençol {n} peças cor marfim | Juego de sábanas color marfil | 25 | home
        Tinta acrílica cor marfim 18L | Pintura látex color marfil 20L | 60 | tools,home
        Vestido estampa de onça | Vestido animal print leopardo | 25 | fashion
        Cápsulas de café compatível {n}0 un | Cápsulas de café compatibles x{n}0 | 10 | home
        Raio de bicicleta aro {aro} | Rayos para bicicleta rodado {aro} | 8 | sports
        Umidificador de ar vaporizador | Humidificador vaporizador de aire | 20 | appliances
        Vestido cor coral {size} | Vestido color coral {size} | 25 | fashion
        Papagaio de pelúcia que repete a fala | Loro de peluche que repite lo que dices | 15 | toys
    """)),
]

BENIGN = [
    ("benign", 1, ["electronics", "phones", "computers", "games"], _templates("""
        Smartphone {phone} {gb} | Celular {phone} {gb} | 300 | phones
        Smart TV {tv} 4K {tvbrand} | Smart TV {tv} 4K {tvbrand} | 400 | electronics
        Notebook {nbbrand} {ram} SSD {gb} | Notebook {nbbrand} {ram} SSD {gb} | 600 | computers
        Fone de ouvido bluetooth {earbrand} | Auriculares bluetooth {earbrand} | 25 | electronics
        Caixa de som bluetooth {earbrand} {model} | Parlante bluetooth {earbrand} {model} | 40 | electronics
        Mouse gamer RGB {model} | Mouse gamer RGB {model} | 15 | computers
        Teclado mecânico {model} RGB | Teclado mecánico {model} RGB | 35 | computers
        Monitor gamer {tv} polegadas 144hz | Monitor gamer 27 pulgadas 144hz | 200 | computers
        Console PlayStation 5 slim | Consola PlayStation 5 slim | 550 | games
        Controle Xbox Series sem fio | Joystick Xbox Series inalámbrico | 55 | games
        Câmera de segurança wifi {model} | Cámara de seguridad wifi {model} | 25 | electronics
        Smartwatch {model} | Smartwatch {model} | 30 | electronics,phones
        Tablet {gb} {ram} | Tablet {gb} {ram} | 150 | computers,electronics
        Pen drive {gb} | Pendrive {gb} | 8 | computers
        SSD {gb} NVMe | Disco SSD {gb} NVMe | 50 | computers
    """)),
    ("benign", 1, ["fashion"], _templates("""
        Tênis corrida masculino {shoe} | Zapatillas running hombre {shoe} | 40
        Camiseta básica algodão {size} {color} | Remera básica algodón {size} {color} | 10
        Calça jeans skinny feminina {size} | Jean skinny mujer {size} | 25
        Vestido midi floral {size} | Vestido midi floral {size} | 30
        Jaqueta jeans {size} | Campera de jean {size} | 35
        Moletom canguru {color} {size} | Buzo canguro {color} {size} | 25
        Bolsa transversal {material} {color} | Cartera bandolera {material} {color} | 30
        Relógio digital esportivo | Reloj digital deportivo | 15 | watches_jewellery,fashion
        Óculos de sol polarizado | Lentes de sol polarizados | 12
        Chinelo slide {shoe} | Ojotas slide {shoe} | 8
        Bermuda tactel {size} | Short de baño {size} | 12
        Kit {n} cuecas boxer | Pack {n} boxers | 15
        Mochila escolar {color} | Mochila escolar {color} | 20
    """)),
    ("benign", 1, ["home", "appliances"], _templates("""
        Jogo de panelas antiaderente {n} peças | Batería de cocina antiadherente {n} piezas | 60
        Cafeteira elétrica {brand_home} | Cafetera eléctrica {brand_home} | 30
        Liquidificador {w}W {brand_home} | Licuadora {w}W {brand_home} | 35
        Air fryer {l}L {brand_home} | Freidora de aire {l}L {brand_home} | 70
        Aspirador robô {model} | Robot aspiradora {model} | 150
        Jogo de cama casal {n} peças | Juego de sábanas 2 plazas | 30
        Toalha de banho {n} peças | Toallas de baño x{n} | 20
        Tapete sala {cm}x{cm} | Alfombra living {cm}x{cm} | 40
        Cortina blackout {color} | Cortina blackout {color} | 25
        Luminária LED de mesa | Lámpara LED de escritorio | 15
        Cadeira gamer reclinável | Silla gamer reclinable | 150
        Organizador de gaveta {n} divisórias | Organizador de cajón {n} divisiones | 8
        Micro-ondas {l} litros {brand_home} | Microondas {l} litros {brand_home} | 120
        Garrafa térmica {l}L | Termo {l}L acero | 20
    """)),
    ("benign", 1, ["toys"], _templates("""
        Lego {lego} {n}00 peças | Lego {lego} {n}00 piezas | 50
        Boneca bebê reborn | Muñeca bebé reborn | 60
        Quebra-cabeça {n}000 peças | Rompecabezas {n}000 piezas | 15
        Carrinho de controle remoto {model} | Auto a control remoto {model} | 30
        Jogo de tabuleiro Banco Imobiliário | Juego de mesa Monopoly | 25
        Pelúcia {animal} {cm}cm | Peluche {animal} {cm}cm | 12
        Hot Wheels kit {n} carrinhos | Hot Wheels pack x{n} | 15
        Massinha de modelar kit {n} cores | Masa para moldear kit {n} colores | 8
    """)),
    ("benign", 1, ["sports"], _templates("""
        Bicicleta aro {aro} 21 marchas | Bicicleta rodado {aro} 21 cambios | 250
        Halteres {kg}kg par | Mancuernas {kg}kg par | 25
        Bola de futebol campo | Pelota de fútbol | 20
        Esteira elétrica dobrável | Cinta de correr plegable | 400
        Tapete de yoga {color} | Mat de yoga {color} | 12
        Luva de boxe {oz}oz | Guantes de boxeo {oz}oz | 30
        Barraca camping {n} pessoas | Carpa camping {n} personas | 60
        Corda de pular | Soga para saltar | 5
        Capacete ciclismo {size} | Casco ciclismo {size} | 30
    """)),
    ("benign", 1, ["auto", "tools"], _templates("""
        Pastilha de freio {car} dianteira | Pastillas de freno {car} delanteras | 25 | auto
        Amortecedor dianteiro {car} | Amortiguador delantero {car} | 60 | auto
        Lâmpada LED H4 farol | Lámpara LED H4 faro | 15 | auto
        Bateria {ah}Ah selada | Batería {ah}Ah sellada | 100 | auto
        Pneu aro {aro} {model} | Neumático rodado {aro} {model} | 70 | auto
        Tapete automotivo {car} | Cubre alfombras {car} | 25 | auto
        Óleo 5w30 sintético 1L | Aceite 5w30 sintético 1L | 10 | auto
        Central multimídia {car} | Radio multimedia {car} | 120 | auto
        Furadeira de impacto {w}W {toolbrand} | Taladro percutor {w}W {toolbrand} | 60 | tools
        Parafusadeira {toolbrand} bateria | Atornillador {toolbrand} batería | 70 | tools
        Jogo de chaves {n}0 peças | Juego de llaves x{n}0 | 30 | tools
        Trena {n}m | Cinta métrica {n}m | 5 | tools
    """)),
    ("benign", 1, ["books", "beauty"], _templates("""
        Livro {booktitle} | Libro {booktitle} | 12 | books
        Box Harry Potter {n} livros | Saga Harry Potter {n} libros | 60 | books
        Livro de receitas da vovó | Libro de recetas de la abuela | 10 | books
        Bíblia sagrada letra grande | Biblia letra grande | 15 | books
        Secador de cabelo {w}W | Secador de pelo {w}W | 30 | beauty
        Prancha alisadora cerâmica | Planchita de pelo cerámica | 25 | beauty
        Kit maquiagem completo | Kit de maquillaje completo | 20 | beauty
        Protetor solar facial FPS {fps} | Protector solar facial FPS {fps} | 15 | beauty
        Hidratante corporal {ml} | Crema corporal {ml} | 8 | beauty
        Shampoo e condicionador kit | Shampoo y acondicionador kit | 10 | beauty
    """)),
]

KIND_WEIGHTS = [("prohibited", 22.5), ("hard_negative", 30.0), ("benign", 47.5)]

# ----------------------------------------------------------------------------- title style
MARKERS = {
    "pt": ["frete grátis", "envio imediato", "pronta entrega", "promoção", "original", "lacrado",
           "com nf", "novo", "oferta", "kit", "atacado", "envio 24h", "12x sem juros",
           "lançamento", "garantia", "mega promoção", "queima de estoque"],
    "es": ["envío gratis", "envío inmediato", "oferta", "original", "nuevo", "sellado",
           "garantía", "por mayor", "stock ya", "entrega inmediata", "cuotas sin interés",
           "liquidación", "promo", "factura A", "meses sin intereses"],
}
# Evasive phrasing bad actors use; mostly on prohibited rows, sometimes on ordinary ones.
EVASIVE = {
    "pt": ["sem receita", "envio discreto", "chama no chat", "consulte", "leia a descrição",
           "100% sigiloso", "entrega discreta", "pergunte antes", "não é o que parece",
           "pague na entrega"],
    "es": ["sin receta", "envío discreto", "consultar", "preguntar antes de ofertar",
           "leer descripción", "100% discreto", "consultar stock", "pago contra entrega"],
}
EMOJI = ["🔥", "✅", "⭐", "💥", "🚚", "😍", "⚡"]
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"}


def strip_accents(text):
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn")


def model_code(rng):
    letters = "ABCDEFGHJKLMNPRSTVXZ"
    head = "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))
    sep = rng.choice(["", "-", " "])
    return head + sep + str(rng.randint(2, 9999))


SLOT_RE = re.compile(r"\{(\w+)\}")


def fill(template, lang, rng):
    def repl(m):
        name = m.group(1)
        if name == "model":
            return model_code(rng)
        vals = SLOTS[name]
        if isinstance(vals, tuple):
            vals = vals[0] if lang == "pt" else vals[1]
        return rng.choice(vals)
    return SLOT_RE.sub(repl, template)


def disguise_word(word, rng):
    """One seller-style mangling: leet digit, dropped or doubled letter, or swapped letters."""
    if len(word) < 4:
        return word
    kind = rng.random()
    if kind < 0.45:
        idx = [i for i, c in enumerate(word) if c.lower() in LEET]
        if idx:
            i = rng.choice(idx)
            return word[:i] + LEET[word[i].lower()] + word[i + 1:]
        return word
    i = rng.randint(1, len(word) - 2)
    if kind < 0.65:
        return word[:i] + word[i + 1:]
    if kind < 0.8:
        return word[:i] + word[i] + word[i:]
    if kind < 0.9:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + "." + word[i:]


def style_title(core, lang, kind, rng):
    words = core.split()
    # Typos and leet: bad actors disguise the keyword more often than ordinary sellers typo.
    p_mangle = 0.10 if kind == "prohibited" else 0.03
    if rng.random() < p_mangle:
        alpha = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 4]
        if alpha:
            i = rng.choice(alpha)
            words[i] = disguise_word(words[i], rng)
    title = " ".join(words)

    extras = []
    p_evasive = 0.30 if kind == "prohibited" else 0.025
    if rng.random() < p_evasive:
        extras.append(rng.choice(EVASIVE[lang]))
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        extras.append(rng.choice(MARKERS[lang]))
    for e in extras:
        candidate = (title + " " + e) if rng.random() < 0.8 else (e + " " + title)
        if len(candidate) <= TITLE_MAX and e not in title:
            title = candidate

    casing = rng.random()
    if casing < 0.45:
        title = " ".join(w[:1].upper() + w[1:] for w in title.split())
    elif casing < 0.57:
        title = title.upper()
    elif casing < 0.67:
        title = title.lower()
    if rng.random() < 0.22:
        title = strip_accents(title)
    if rng.random() < 0.006:
        e = rng.choice(EMOJI)
        title = (e + " " + title) if rng.random() < 0.5 else (title + " " + e)
    if rng.random() < 0.03:
        title = title.replace(" ", "  ", 1)  # sloppy double space
    return title


# ----------------------------------------------------------------------------- numbers
def lognormal(rng, median, sigma):
    return median * math.exp(rng.gauss(0.0, sigma))


def seller(rng, kind):
    """Bad actors skew to newer accounts and fewer sales; the ranges overlap on purpose."""
    bad = kind == "prohibited"
    if bad and rng.random() < 0.30:  # established sellers also list prohibited items
        bad = False
    age = lognormal(rng, 200 if bad else 650, 1.3 if bad else 1.1)
    age = int(min(max(age, 0), 7300))
    rate = lognormal(rng, 0.2 if bad else 0.6, 1.2)  # sales per day of account age
    sales = int(age * rate)
    if rng.random() < 0.04:
        sales = 0
    thresholds = [5, 50, 400, 3000]
    level = sum(1 for t in thresholds if sales >= t)
    jitter = rng.random()
    if jitter < 0.1 and level > 0:
        level -= 1
    elif jitter > 0.93 and level < 4 and sales > 0:
        level += 1
    return age, sales, REPUTATIONS[level]


def price_for(rng, median):
    p = lognormal(rng, median, 0.45)
    if rng.random() < 0.02:
        p *= rng.choice([0.2, 3.0])  # odd prices: bundle or mispriced
    return f"{max(p, 0.5):.2f}"


# ----------------------------------------------------------------------------- rows
def weighted_choice(rng, items, weight_of):
    total = sum(weight_of(x) for x in items)
    r = rng.random() * total
    acc = 0.0
    for x in items:
        acc += weight_of(x)
        if r < acc:
            return x
    return items[-1]


def generate():
    """Returns (rows, stats). Rows are lists of strings in COLUMNS order."""
    rng = random.Random(SEED)
    rows = []
    stats = {"noise": 0, "miscategorised": 0}
    next_number = 3000000000
    groups = {"prohibited": PROHIBITED, "hard_negative": HARD_NEGATIVES, "benign": BENIGN}
    for _ in range(N_ROWS):
        site, lang, _w = weighted_choice(rng, SITES, lambda s: s[2])
        kind = weighted_choice(rng, KIND_WEIGHTS, lambda k: k[1])[0]
        family, _fw, domains, templates = weighted_choice(rng, groups[kind], lambda f: f[1])
        pt, es, median, own_domains = rng.choice(templates)
        core = fill(pt if lang == "pt" else es, lang, rng)
        title = style_title(core, lang, kind, rng)
        domain = rng.choice(own_domains or domains)
        if kind == "prohibited" and rng.random() < MISCATEGORISED:
            domain = rng.choice(INNOCENT_DOMAINS)
            stats["miscategorised"] += 1
        category = site + rng.choice(DOMAINS[domain])
        price = price_for(rng, median)
        age, sales, reputation = seller(rng, kind)
        label = 1 if kind == "prohibited" else 0
        if rng.random() < LABEL_NOISE:
            label = 1 - label
            stats["noise"] += 1
        next_number += rng.randint(1, 4000)
        rows.append([f"{site}{next_number}", site, title, category, price, str(age), str(sales),
                     reputation, str(label), family])
    return rows, stats


def render(rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def kind_of(family):
    for kind, fams in (("prohibited", PROHIBITED), ("hard_negative", HARD_NEGATIVES)):
        if any(f[0] == family for f in fams):
            return kind
    return "benign"


def summary(rows, stats):
    out = []
    n = len(rows)
    pos = sum(1 for r in rows if r[8] == "1")
    out.append(f"rows: {n}; is_prohibited=1: {pos} ({100 * pos / n:.1f} %); "
               f"flipped labels (noise): {stats['noise']}; "
               f"prohibited rows in an unrelated category: {stats['miscategorised']}")
    out.append("")
    out.append("| family | kind | rows | is_prohibited=1 | is_prohibited=0 |")
    out.append("|---|---|---:|---:|---:|")
    fam_order = [f[0] for f in PROHIBITED] + [f[0] for f in HARD_NEGATIVES] + ["benign"]
    for fam in fam_order:
        fr = [r for r in rows if r[9] == fam]
        p = sum(1 for r in fr if r[8] == "1")
        out.append(f"| {fam} | {kind_of(fam)} | {len(fr)} | {p} | {len(fr) - p} |")
    out.append("")
    out.append("| site | language | rows | is_prohibited=1 |")
    out.append("|---|---|---:|---:|")
    for site, lang, _w in SITES:
        sr = [r for r in rows if r[1] == site]
        out.append(f"| {site} | {lang} | {len(sr)} | {sum(1 for r in sr if r[8] == '1')} |")
    out.append("")
    out.append("| seller_reputation | rows | is_prohibited=1 |")
    out.append("|---|---:|---:|")
    for rep in REPUTATIONS:
        rr = [r for r in rows if r[7] == rep]
        out.append(f"| {rep} | {len(rr)} | {sum(1 for r in rr if r[8] == '1')} |")
    lengths = sorted(len(r[2]) for r in rows)
    out.append("")
    out.append(f"title length: min {lengths[0]}, median {lengths[n // 2]}, max {lengths[-1]} "
               f"characters; distinct titles: {len(set(r[2] for r in rows))}")
    return "\n".join(out) + "\n"


def main(argv):
    rows, stats = generate()
    data = render(rows)
    if "--check" in argv:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "data", "listings.csv")
        extra = [a for a in argv if not a.startswith("--")]
        if extra:
            path = extra[0]
        with open(path, "rb") as f:
            committed = f.read()
        if committed != data:
            sys.stderr.write(f"MISMATCH: {path} differs from a fresh generation "
                             f"({len(committed)} vs {len(data)} bytes)\n")
            return 1
        sys.stderr.write(f"OK: {path} equals a fresh generation ({len(data)} bytes)\n")
        return 0
    if "--summary" in argv:
        sys.stdout.write(summary(rows, stats))
        return 0
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    sys.stderr.write(summary(rows, stats))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
